"""what each reviewer last saw of a report: report_view

Revision ID: 0005_report_view
Revises: 0004_search
Create Date: 2026-12-01 15:00:00.000000

(0004_search, the full-text search, is written on another branch; this one follows it.)
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_report_view'
down_revision = '0004_search'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_view',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('content_number', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_view_report_id_report'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_report_view_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'report_id', name=op.f('pk_report_view'))
    )
    with op.batch_alter_table('report_view', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_view_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_view', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_view_report_id'))

    op.drop_table('report_view')
