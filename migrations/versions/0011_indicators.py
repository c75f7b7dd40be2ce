"""key indicators: the district's catalogue, confirmed values per report version, plan task statuses

Revision ID: 0011_indicators
Revises: 0006_accounts
Create Date: 2026-12-01 17:30:00.000000
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_indicators'
down_revision = '0010_province_lists'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('indicator_catalogue_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('synonyms', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['org_unit.id'],
                            name=op.f('fk_indicator_catalogue_entry_district_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_catalogue_entry')),
    sa.UniqueConstraint('district_id', 'kind', 'key', name=op.f('uq_indicator_catalogue_entry_district_id_kind_key'))
    )
    with op.batch_alter_table('indicator_catalogue_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_catalogue_entry_district_id'), ['district_id'], unique=False)

    op.create_table('key_indicator_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Double(), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user.id'],
                            name=op.f('fk_key_indicator_value_confirmed_by_id_user')),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_key_indicator_value_report_id_report'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_indicator_value')),
    sa.UniqueConstraint('report_id', 'version_number', 'key',
                        name=op.f('uq_key_indicator_value_report_id_version_number_key'))
    )
    with op.batch_alter_table('key_indicator_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_indicator_value_report_id'), ['report_id'], unique=False)

    op.create_table('plan_task_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_plan_task_status_report_id_report'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_plan_task_status_updated_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_task_status')),
    sa.UniqueConstraint('report_id', 'section_id', name=op.f('uq_plan_task_status_report_id_section_id'))
    )
    with op.batch_alter_table('plan_task_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_task_status_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('plan_task_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_task_status_report_id'))
    op.drop_table('plan_task_status')
    with op.batch_alter_table('key_indicator_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_indicator_value_report_id'))
    op.drop_table('key_indicator_value')
    with op.batch_alter_table('indicator_catalogue_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_catalogue_entry_district_id'))
    op.drop_table('indicator_catalogue_entry')
