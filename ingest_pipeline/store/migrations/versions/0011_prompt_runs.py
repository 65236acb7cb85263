"""prompt runs: prompts, answers, entity mentions, daily mentions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ingest_pipeline.store.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entity_mentions_daily',
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('batch_day', sa.Date(), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('entity', sa.String(length=300), nullable=False),
    sa.Column('display_name', sa.String(length=300), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('prompts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_entity_mentions_daily_integration_id_integrations')),
    sa.PrimaryKeyConstraint('integration_id', 'batch_day', 'model', 'entity', name=op.f('pk_entity_mentions_daily'))
    )
    op.create_table('prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('models', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('runs_per_day', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_prompts_integration_id_integrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompts')),
    sa.UniqueConstraint('integration_id', 'name', name=op.f('uq_prompts_integration_id_name'))
    )
    op.create_table('prompt_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('source_item_id', sa.Integer(), nullable=False),
    sa.Column('batch_day', sa.Date(), nullable=False),
    sa.Column('prompt_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('run_index', sa.Integer(), nullable=False),
    sa.Column('answered_by', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('extraction_id', sa.Integer(), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Double(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['extraction_id'], ['llm_extractions.id'], name=op.f('fk_prompt_answers_extraction_id_llm_extractions')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_prompt_answers_integration_id_integrations')),
    sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], name=op.f('fk_prompt_answers_prompt_id_prompts')),
    sa.ForeignKeyConstraint(['source_item_id'], ['ingest_items.id'], name=op.f('fk_prompt_answers_source_item_id_ingest_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompt_answers')),
    sa.UniqueConstraint('integration_id', 'external_id', name=op.f('uq_prompt_answers_integration_id_external_id'))
    )
    with op.batch_alter_table('prompt_answers', schema=None) as batch_op:
        batch_op.create_index('ix_prompt_answers_day', ['integration_id', 'batch_day'], unique=False)

    op.create_table('entity_mentions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('batch_day', sa.Date(), nullable=False),
    sa.Column('prompt_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['prompt_answers.id'], name=op.f('fk_entity_mentions_answer_id_prompt_answers')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_entity_mentions_integration_id_integrations')),
    sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], name=op.f('fk_entity_mentions_prompt_id_prompts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_mentions')),
    sa.UniqueConstraint('answer_id', 'ordinal', name=op.f('uq_entity_mentions_answer_id_ordinal'))
    )
    with op.batch_alter_table('entity_mentions', schema=None) as batch_op:
        batch_op.create_index('ix_entity_mentions_day', ['integration_id', 'batch_day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('entity_mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_entity_mentions_day')

    op.drop_table('entity_mentions')
    with op.batch_alter_table('prompt_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_prompt_answers_day')

    op.drop_table('prompt_answers')
    op.drop_table('prompts')
    op.drop_table('entity_mentions_daily')
