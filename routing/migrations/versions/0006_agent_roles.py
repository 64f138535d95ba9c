"""Agent roles: agent (default), lead or admin. Leads and admins see every figure of the console's dashboard; an
agent sees only their own.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.add_column(sa.Column('role', sa.String(length=16), nullable=False, server_default='agent'))


def downgrade() -> None:
    with op.batch_alter_table('agents') as batch:
        batch.drop_column('role')
