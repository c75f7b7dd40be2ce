"""org units: one name once under one parent (the unique index uq_org_unit_parent_id_name)

Revision ID: 0008_org_unit_names
Revises: 0005_report_view
Create Date: 2026-12-01 17:00:00.000000

An existing database that already has a name twice under one parent must be tidied by
hand first (rename one of them): the upgrade stops on the constraint and says which.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_org_unit_names'
down_revision = '0007_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    twice = op.get_bind().execute(sa.text(
        "SELECT parent_id, name FROM org_unit WHERE parent_id IS NOT NULL "
        "GROUP BY parent_id, name HAVING COUNT(*) > 1")).all()
    if twice:
        listed = "; ".join(f"{name!r} under unit {parent_id}" for parent_id, name in twice)
        raise RuntimeError(f"org units named twice under one parent, rename one of each first: {listed}")
    # A unique index: on SQLite, a table constraint would rebuild org_unit, which the whole
    # schema refers to; the index is added in place and enforces the same rule.
    op.create_index('uq_org_unit_parent_id_name', 'org_unit', ['parent_id', 'name'], unique=True)


def downgrade():
    op.drop_index('uq_org_unit_parent_id_name', table_name='org_unit')
