"""province-scale lists: the town's path on the report, indexed with the newest activity

Revision ID: 0010_province_lists
Revises: 0005_report_view
Create Date: 2026-12-01 17:30:00.000000

``report.org_path`` copies the town's ``org_unit.path`` (units never move), backfilled here;
``ix_report_org_path_updated`` makes a district's list read the district's rows only. On
PostgreSQL the column compares bytewise (collation "C") so that a subtree is an index range.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_province_lists'
down_revision = '0008_org_unit_names'
branch_labels = None
depends_on = None

PATH_TYPE = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_path', PATH_TYPE, server_default='', nullable=False))
    op.execute("UPDATE report SET org_path = "
               "(SELECT org_unit.path FROM org_unit WHERE org_unit.id = report.org_unit_id)")
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_org_path_updated', ['org_path', 'updated_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_report_org_path_updated', table_name='report')
    # SQLite (3.35+) drops a column in place: no copy of the report table, which others hold open.
    op.drop_column('report', 'org_path')
