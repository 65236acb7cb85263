"""embeddings: vectors cached by text hash and model; which vector stands for each message,
job posting and candidate

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest_pipeline.store.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('embedding_vectors',
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('dims', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('content_hash', 'model', name=op.f('pk_embedding_vectors'))
    )
    op.create_table('embeddings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_embeddings')),
    sa.UniqueConstraint('tenant_id', 'kind', 'ref_id', 'model', name=op.f('uq_embeddings_tenant_id_kind_ref_id_model'))
    )
    with op.batch_alter_table('embeddings', schema=None) as batch_op:
        batch_op.create_index('ix_embeddings_tenant_model', ['tenant_id', 'model'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('embeddings', schema=None) as batch_op:
        batch_op.drop_index('ix_embeddings_tenant_model')
    op.drop_table('embeddings')
    op.drop_table('embedding_vectors')
