"""the town's 上行文: org units' issuing names and 发文字号 prefixes, a 发文字号 counter per town and year,
the publication's 发文字号

Revision ID: 0012_uplevel
Revises: 0011_indicators
Create Date: 2026-12-01 20:30:00.000000

Plain ``ADD COLUMN`` of nullable columns (in place on SQLite and PostgreSQL): empty issuing
names and prefixes mean the defaults (name + 人民政府; first character + 政).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_uplevel'
down_revision = '0011_indicators'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('org_unit', sa.Column('issuing_name', sa.String(length=100), nullable=True))
    op.add_column('org_unit', sa.Column('doc_prefix', sa.String(length=20), nullable=True))
    op.add_column('publication', sa.Column('doc_year', sa.Integer(), nullable=True))
    op.add_column('publication', sa.Column('doc_seq', sa.Integer(), nullable=True))
    op.add_column('publication', sa.Column('doc_number', sa.String(length=64), nullable=True))
    op.create_table('doc_number_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_doc_number_counter_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_doc_number_counter')),
    sa.UniqueConstraint('org_unit_id', 'year', name=op.f('uq_doc_number_counter_org_unit_id_year'))
    )


def downgrade():
    op.drop_table('doc_number_counter')
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_column('doc_number')
        batch_op.drop_column('doc_seq')
        batch_op.drop_column('doc_year')
    with op.batch_alter_table('org_unit', schema=None) as batch_op:
        batch_op.drop_column('doc_prefix')
        batch_op.drop_column('issuing_name')
