"""llm spend by integration: who paid for each extraction, for per-integration budgets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('llm_extractions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('integration_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            'ix_llm_extractions_created_at_integration',
            ['created_at', 'integration_id'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('llm_extractions', schema=None) as batch_op:
        batch_op.drop_index('ix_llm_extractions_created_at_integration')
        batch_op.drop_column('integration_id')
