"""change probes on integrations

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


import ingest_pipeline.store.types

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_success_at', ingest_pipeline.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('probe_token', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('probed_at', ingest_pipeline.store.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('probe_error', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.drop_column('probe_error')
        batch_op.drop_column('probed_at')
        batch_op.drop_column('probe_token')
        batch_op.drop_column('last_success_at')

