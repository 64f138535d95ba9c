"""Customers, orders, order items, customer tiers and the routing-decision audit.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_lower', sa.String(length=320), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address_line', sa.String(length=300), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('support_contacts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tier_override', sa.String(length=32), nullable=True),
    sa.Column('tier_override_reason', sa.String(length=500), nullable=True),
    sa.Column('tier_override_author', sa.String(length=120), nullable=True),
    sa.Column('tier_override_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_email_lower', ['email_lower'], unique=True)
        batch_op.create_index(batch_op.f('ix_customers_external_id'), ['external_id'], unique=True)

    op.create_table('customer_tiers',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revenue_12m_cents', sa.Integer(), nullable=False),
    sa.Column('orders_12m', sa.Integer(), nullable=False),
    sa.Column('orders_total', sa.Integer(), nullable=False),
    sa.Column('revenue_total_cents', sa.Integer(), nullable=False),
    sa.Column('frequency_per_year', sa.Float(), nullable=False),
    sa.Column('recency_days', sa.Integer(), nullable=True),
    sa.Column('aov_cents', sa.Integer(), nullable=False),
    sa.Column('tenure_days', sa.Integer(), nullable=False),
    sa.Column('return_support_cost_cents', sa.Integer(), nullable=False),
    sa.Column('clv', sa.Float(), nullable=False),
    sa.Column('clv_percentile', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('customer_tiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_tiers_clv'), ['clv'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('carrier', sa.String(length=40), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False),
    sa.Column('return_status', sa.String(length=16), nullable=True),
    sa.Column('refund_status', sa.String(length=16), nullable=True),
    sa.Column('refund_cents', sa.Integer(), nullable=True),
    sa.Column('invoice_number', sa.String(length=32), nullable=True),
    sa.Column('shipping_address', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_customer_placed', ['customer_id', 'placed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_number'), ['number'], unique=True)

    op.create_table('routing_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=False),
    sa.Column('bot_failures', sa.Integer(), nullable=False),
    sa.Column('human_requests', sa.Integer(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('queue', sa.String(length=40), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('sla_seconds', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('offer_human', sa.Boolean(), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_decisions_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_routing_decisions_customer_id'), ['customer_id'], unique=False)

    op.create_table('order_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_items_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_items_order_id'))

    op.drop_table('order_items')
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_decisions_customer_id'))
        batch_op.drop_index(batch_op.f('ix_routing_decisions_conversation_id'))

    op.drop_table('routing_decisions')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_number'))
        batch_op.drop_index('ix_orders_customer_placed')

    op.drop_table('orders')
    with op.batch_alter_table('customer_tiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_tiers_clv'))

    op.drop_table('customer_tiers')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_external_id'))
        batch_op.drop_index('ix_customers_email_lower')

    op.drop_table('customers')
