"""accounts: user.session_epoch (sessions that can be ended) and login_event

Revision ID: 0006_accounts
Revises: 0005_report_view
Create Date: 2026-12-01 16:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_accounts'
down_revision = '0005_report_view'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))

    op.create_table('login_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_event_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_event'))
    )
    with op.batch_alter_table('login_event', schema=None) as batch_op:
        batch_op.create_index('ix_login_event_username_id', ['username', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_event_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('login_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_event_user_id'))
        batch_op.drop_index('ix_login_event_username_id')

    op.drop_table('login_event')
    # A plain DROP COLUMN (SQLite 3.35+): batch mode would recreate ``user``, and dropping the old
    # table fails on (or, without the check, cascades through) every row that points at a user.
    op.drop_column('user', 'session_epoch')
