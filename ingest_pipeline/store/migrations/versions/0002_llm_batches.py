"""llm batches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ingest_pipeline.store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('llm_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_batch_id', sa.String(length=128), nullable=False),
    sa.Column('input_file_id', sa.String(length=128), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('partition_day', sa.Date(), nullable=False),
    sa.Column('task', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('prompt_version', sa.String(length=32), nullable=False),
    sa.Column('requests', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_llm_batches_integration_id_integrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_batches')),
    sa.UniqueConstraint('provider_batch_id', name=op.f('uq_llm_batches_provider_batch_id'))
    )



def downgrade() -> None:

    op.drop_table('llm_batches')

