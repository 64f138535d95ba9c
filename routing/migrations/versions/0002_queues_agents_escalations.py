"""Human support: agents, their queues and tokens, escalations with audit events, messages, notes, outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:08:12.912654
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('max_chats', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_claim_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login')
    )
    op.create_table('escalation_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('escalation_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_outbox_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_escalation_outbox_pending', ['sent_at', 'next_attempt_at'], unique=False)

    op.create_table('agent_queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agent_id', 'queue')
    )
    with op.batch_alter_table('agent_queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_queues_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_queues_queue'), ['queue'], unique=False)

    op.create_table('agent_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('agent_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_tokens_agent_id'), ['agent_id'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('tier', sa.String(length=16), nullable=False),
    sa.Column('tier_reason', sa.Text(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('enqueued_epoch', sa.BigInteger(), nullable=False),
    sa.Column('sla_seconds', sa.Integer(), nullable=True),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rule', sa.String(length=128), nullable=False),
    sa.Column('intent', sa.String(length=128), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('transcript', sa.JSON(), nullable=False),
    sa.Column('contact', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('alternative', sa.String(length=16), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('disposition', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index('ix_escalations_claim_order', ['queue', 'status', 'priority', 'sla_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_escalations_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('uq_escalations_open_conversation', ['conversation_id'], unique=True, postgresql_where=sa.text("status IN ('waiting', 'assigned', 'active')"), sqlite_where=sa.text("status IN ('waiting', 'assigned', 'active')"))

    op.create_table('escalation_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=True),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('escalation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_events_escalation_id'), ['escalation_id'], unique=False)

    op.create_table('escalation_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('escalation_id', 'idempotency_key')
    )
    with op.batch_alter_table('escalation_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_messages_escalation_id'), ['escalation_id'], unique=False)

    op.create_table('escalation_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('escalation_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_notes_escalation_id'), ['escalation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('escalation_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_notes_escalation_id'))

    op.drop_table('escalation_notes')
    with op.batch_alter_table('escalation_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_messages_escalation_id'))

    op.drop_table('escalation_messages')
    with op.batch_alter_table('escalation_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_events_escalation_id'))

    op.drop_table('escalation_events')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('uq_escalations_open_conversation', postgresql_where=sa.text("status IN ('waiting', 'assigned', 'active')"), sqlite_where=sa.text("status IN ('waiting', 'assigned', 'active')"))
        batch_op.drop_index(batch_op.f('ix_escalations_expires_at'))
        batch_op.drop_index(batch_op.f('ix_escalations_customer_id'))
        batch_op.drop_index(batch_op.f('ix_escalations_conversation_id'))
        batch_op.drop_index('ix_escalations_claim_order')
        batch_op.drop_index(batch_op.f('ix_escalations_agent_id'))

    op.drop_table('escalations')
    with op.batch_alter_table('agent_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_tokens_agent_id'))

    op.drop_table('agent_tokens')
    with op.batch_alter_table('agent_queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_queues_queue'))
        batch_op.drop_index(batch_op.f('ix_agent_queues_agent_id'))

    op.drop_table('agent_queues')
    with op.batch_alter_table('escalation_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_outbox_pending')
        batch_op.drop_index(batch_op.f('ix_escalation_outbox_conversation_id'))

    op.drop_table('escalation_outbox')
    op.drop_table('agents')
