"""mail interactions (direction, thread, automated, display name); contacts seen in mail;
contact suggestions (same name, nothing linking them)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direction', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('thread_key', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('automated', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('display_name', sa.Text(), nullable=True))
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('seen_in_mail', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table('contact_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('similar_contact_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_suggestions_contact_id_contacts')),
    sa.ForeignKeyConstraint(['similar_contact_id'], ['contacts.id'], name=op.f('fk_contact_suggestions_similar_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_suggestions')),
    sa.UniqueConstraint('contact_id', 'similar_contact_id', name=op.f('uq_contact_suggestions_contact_id_similar_contact_id'))
    )


def downgrade() -> None:
    op.drop_table('contact_suggestions')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('seen_in_mail')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_column('display_name')
        batch_op.drop_column('automated')
        batch_op.drop_column('thread_key')
        batch_op.drop_column('direction')
