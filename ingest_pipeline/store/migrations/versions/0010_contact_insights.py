"""contact insights: a summary of the recent relationship and the next step per contact

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ingest_pipeline.store.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_insights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('extraction_id', sa.Integer(), nullable=False),
    sa.Column('interactions', sa.Integer(), nullable=False),
    sa.Column('last_interaction_at', ingest_pipeline.store.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_insights_contact_id_contacts')),
    sa.ForeignKeyConstraint(['extraction_id'], ['llm_extractions.id'], name=op.f('fk_contact_insights_extraction_id_llm_extractions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_insights')),
    sa.UniqueConstraint('tenant_id', 'contact_id', name=op.f('uq_contact_insights_tenant_id_contact_id'))
    )


def downgrade() -> None:
    op.drop_table('contact_insights')
