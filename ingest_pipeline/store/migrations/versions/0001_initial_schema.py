"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ingest_pipeline.store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('candidate_key', sa.String(length=320), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phones', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('years_experience', sa.Double(), nullable=True),
    sa.Column('links', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidates')),
    sa.UniqueConstraint('tenant_id', 'candidate_key', name=op.f('uq_candidates_tenant_id_candidate_key'))
    )
    op.create_table('integrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('partition_key', sa.String(length=100), nullable=True),
    sa.Column('account', sa.Text(), nullable=False),
    sa.Column('task', sa.String(length=64), nullable=False),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('credentials', sa.LargeBinary(), nullable=True),
    sa.Column('sync_state', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sync_frequency_minutes', sa.Integer(), nullable=False),
    sa.Column('last_sync_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_sync_status', sa.String(length=16), nullable=True),
    sa.Column('last_sync_error', sa.Text(), nullable=True),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrations')),
    sa.UniqueConstraint('name', name=op.f('uq_integrations_name')),
    sa.UniqueConstraint('partition_key', name=op.f('uq_integrations_partition_key'))
    )
    op.create_table('llm_extractions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('task', sa.String(length=64), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('prompt_version', sa.String(length=32), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=False),
    sa.Column('output_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Double(), nullable=False),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_llm_extractions')),
    sa.UniqueConstraint('content_hash', 'task', 'model', 'prompt_version', name=op.f('uq_llm_extractions_content_hash_task_model_prompt_version'))
    )
    op.create_table('parsed_items',
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('parser_version', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('content_hash', 'parser_version', name=op.f('pk_parsed_items'))
    )
    op.create_table('raw_items',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_raw_items'))
    )
    op.create_table('ingest_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('partition_day', sa.Date(), nullable=False),
    sa.Column('received_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('extraction_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('updated_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['extraction_id'], ['llm_extractions.id'], name=op.f('fk_ingest_items_extraction_id_llm_extractions')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_ingest_items_integration_id_integrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_items')),
    sa.UniqueConstraint('integration_id', 'stream', 'external_id', name=op.f('uq_ingest_items_integration_id_stream_external_id'))
    )
    with op.batch_alter_table('ingest_items', schema=None) as batch_op:
        batch_op.create_index('ix_ingest_items_partition', ['integration_id', 'partition_day', 'status'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_notifications_integration_id_integrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_table('partition_cursors',
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('partition_day', sa.Date(), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_partition_cursors_integration_id_integrations')),
    sa.PrimaryKeyConstraint('integration_id', 'stream', 'partition_day', name=op.f('pk_partition_cursors'))
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('message_key', sa.String(length=512), nullable=False),
    sa.Column('source_item_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('sender_email', sa.String(length=320), nullable=True),
    sa.Column('sender_name', sa.Text(), nullable=True),
    sa.Column('recipients', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sent_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('has_html', sa.Boolean(), nullable=False),
    sa.Column('defects', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_messages_integration_id_integrations')),
    sa.ForeignKeyConstraint(['source_item_id'], ['ingest_items.id'], name=op.f('fk_messages_source_item_id_ingest_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('integration_id', 'message_key', name=op.f('uq_messages_integration_id_message_key'))
    )
    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('text_error', sa.Text(), nullable=True),
    sa.Column('capped', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_attachments_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('message_id', 'ordinal', name=op.f('uq_attachments_message_id_ordinal'))
    )
    op.create_table('job_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('extraction_id', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_job_applications_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['extraction_id'], ['llm_extractions.id'], name=op.f('fk_job_applications_extraction_id_llm_extractions')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_job_applications_integration_id_integrations')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_job_applications_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_applications')),
    sa.UniqueConstraint('integration_id', 'job_id', 'candidate_id', name=op.f('uq_job_applications_integration_id_job_id_candidate_id'))
    )
    op.create_table('job_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('extraction_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('company', sa.Text(), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('remote', sa.Boolean(), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('rate', sa.Text(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['extraction_id'], ['llm_extractions.id'], name=op.f('fk_job_postings_extraction_id_llm_extractions')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_job_postings_integration_id_integrations')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_job_postings_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_postings')),
    sa.UniqueConstraint('integration_id', 'message_id', name=op.f('uq_job_postings_integration_id_message_id'))
    )



def downgrade() -> None:

    op.drop_table('job_postings')
    op.drop_table('job_applications')
    op.drop_table('attachments')
    op.drop_table('messages')
    op.drop_table('partition_cursors')
    op.drop_table('notifications')
    with op.batch_alter_table('ingest_items', schema=None) as batch_op:
        batch_op.drop_index('ix_ingest_items_partition')

    op.drop_table('ingest_items')
    op.drop_table('raw_items')
    op.drop_table('parsed_items')
    op.drop_table('llm_extractions')
    op.drop_table('integrations')
    op.drop_table('candidates')

