"""Outbox lanes, states and dead letters; a version on escalations for compare-and-set transitions.

An outbox item gets the lane it is ordered in (the customer's conversation, or a webhook lane of its own), a state
(pending, sent, dead), when it was given up, and the agent message it relays. Items already sent become `sent`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('escalations') as batch:
        batch.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('escalation_outbox') as batch:
        batch.add_column(sa.Column('lane', sa.String(length=160), nullable=True))
        batch.add_column(sa.Column('state', sa.String(length=8), server_default='pending', nullable=False))
        batch.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('dead_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE escalation_outbox SET lane = CASE WHEN kind = 'webhook' THEN 'webhook:' || conversation_id "
               "ELSE 'chat:' || conversation_id END")
    op.execute("UPDATE escalation_outbox SET state = 'sent' WHERE sent_at IS NOT NULL")
    with op.batch_alter_table('escalation_outbox') as batch:
        batch.alter_column('lane', existing_type=sa.String(length=160), nullable=False)
        batch.create_foreign_key('fk_escalation_outbox_message_id', 'escalation_messages', ['message_id'], ['id'],
                                 ondelete='SET NULL')
        batch.drop_index('ix_escalation_outbox_pending')
        batch.create_index('ix_escalation_outbox_due', ['state', 'next_attempt_at'], unique=False)
        batch.create_index('ix_escalation_outbox_lane', ['lane', 'state', 'id'], unique=False)
        batch.create_index(batch.f('ix_escalation_outbox_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('escalation_outbox') as batch:
        batch.drop_index(batch.f('ix_escalation_outbox_message_id'))
        batch.drop_index('ix_escalation_outbox_lane')
        batch.drop_index('ix_escalation_outbox_due')
        batch.create_index('ix_escalation_outbox_pending', ['sent_at', 'next_attempt_at'], unique=False)
        batch.drop_constraint('fk_escalation_outbox_message_id', type_='foreignkey')
        batch.drop_column('dead_at')
        batch.drop_column('message_id')
        batch.drop_column('state')
        batch.drop_column('lane')
    with op.batch_alter_table('escalations') as batch:
        batch.drop_column('version')
