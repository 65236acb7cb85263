"""streams: integrations name their stream; ledger versions, duplicates and leases;
contacts and calendar events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ingest_pipeline.store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('contact_key', sa.String(length=400), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=False),
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('family_name', sa.Text(), nullable=True),
    sa.Column('emails', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('phones', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('organization', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('tenant_id', 'contact_key', name=op.f('uq_contacts_tenant_id_contact_key'))
    )
    op.create_table('partition_leases',
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=32), nullable=False),
    sa.Column('partition_day', sa.Date(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('acquired_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_partition_leases_integration_id_integrations')),
    sa.PrimaryKeyConstraint('integration_id', 'stream', 'partition_day', name=op.f('pk_partition_leases'))
    )
    op.create_table('calendar_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('source_item_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=512), nullable=False),
    sa.Column('recurrence_id', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('start_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('organizer_email', sa.String(length=320), nullable=True),
    sa.Column('attendees', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_calendar_events_integration_id_integrations')),
    sa.ForeignKeyConstraint(['source_item_id'], ['ingest_items.id'], name=op.f('fk_calendar_events_source_item_id_ingest_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_events')),
    sa.UniqueConstraint('integration_id', 'external_id', name=op.f('uq_calendar_events_integration_id_external_id'))
    )
    op.create_table('contact_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('identity', sa.String(length=400), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_identities_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_identities')),
    sa.UniqueConstraint('tenant_id', 'identity', name=op.f('uq_contact_identities_tenant_id_identity'))
    )
    op.create_table('contact_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('source_item_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_sources_contact_id_contacts')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_contact_sources_integration_id_integrations')),
    sa.ForeignKeyConstraint(['source_item_id'], ['ingest_items.id'], name=op.f('fk_contact_sources_source_item_id_ingest_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_sources')),
    sa.UniqueConstraint('integration_id', 'external_id', name=op.f('uq_contact_sources_integration_id_external_id'))
    )
    op.create_table('imported_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('source_item_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', ingest_pipeline.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_imported_contacts_contact_id_contacts')),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], name=op.f('fk_imported_contacts_integration_id_integrations')),
    sa.ForeignKeyConstraint(['source_item_id'], ['ingest_items.id'], name=op.f('fk_imported_contacts_source_item_id_ingest_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_contacts')),
    sa.UniqueConstraint('run_id', 'source_item_id', name=op.f('uq_imported_contacts_run_id_source_item_id'))
    )
    with op.batch_alter_table('ingest_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_ingest_items_partition'))
        batch_op.create_index('ix_ingest_items_stream_partition', ['integration_id', 'stream', 'partition_day', 'status'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ingest_items_duplicate_of_ingest_items'), 'ingest_items', ['duplicate_of'], ['id'])

    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('stream', sa.String(length=32), nullable=False, server_default='mail')
        )
        batch_op.alter_column('task',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)

    # The mail stream's ledger rows and cursors were written as 'messages' before streams.
    op.execute("UPDATE ingest_items SET stream = 'mail' WHERE stream = 'messages'")
    op.execute("UPDATE partition_cursors SET stream = 'mail' WHERE stream = 'messages'")



def downgrade() -> None:
    op.execute("UPDATE ingest_items SET stream = 'messages' WHERE stream = 'mail'")
    op.execute("UPDATE partition_cursors SET stream = 'messages' WHERE stream = 'mail'")
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.alter_column('task',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('stream')

    with op.batch_alter_table('ingest_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ingest_items_duplicate_of_ingest_items'), type_='foreignkey')
        batch_op.drop_index('ix_ingest_items_stream_partition')
        batch_op.create_index(batch_op.f('ix_ingest_items_partition'), ['integration_id', 'partition_day', 'status'], unique=False)
        batch_op.drop_column('duplicate_of')
        batch_op.drop_column('version')

    op.drop_table('imported_contacts')
    op.drop_table('contact_sources')
    op.drop_table('contact_identities')
    op.drop_table('calendar_events')
    op.drop_table('partition_leases')
    op.drop_table('contacts')
