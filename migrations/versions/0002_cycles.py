"""reporting cycles: cycle, cycle_town, cycle_reminder, cycle_audit_event, report.cycle_id

Revision ID: 0002_cycles
Revises: 0001
Create Date: 2026-12-01 14:00:10.941580

(The outbox and notification tables follow in 0003, whose down_revision is this one.)
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002_cycles'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('template', sa.JSON(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_cycle_created_by_id_user')),
    sa.ForeignKeyConstraint(['district_id'], ['org_unit.id'], name=op.f('fk_cycle_district_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle'))
    )
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_district_year', ['district_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_cycle_state'), ['state'], unique=False)

    op.create_table('cycle_audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_cycle_audit_event_actor_id_user')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_cycle_audit_event_cycle_id_cycle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_audit_event'))
    )
    with op.batch_alter_table('cycle_audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_audit_event_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('cycle_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('escalate', sa.Boolean(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_cycle_reminder_by_id_user')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_cycle_reminder_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_cycle_reminder_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_reminder')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_cycle_reminder_dedupe_key'))
    )
    with op.batch_alter_table('cycle_reminder', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_reminder_cycle_town', ['cycle_id', 'org_unit_id', 'sent_at'], unique=False)

    op.create_table('cycle_town',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_cycle_town_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_cycle_town_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('cycle_id', 'org_unit_id', name=op.f('pk_cycle_town'))
    )
    with op.batch_alter_table('cycle_town', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_town_org_unit_id'), ['org_unit_id'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cycle_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_report_cycle_id_org_unit_id'), ['cycle_id', 'org_unit_id'])
        batch_op.create_foreign_key(batch_op.f('fk_report_cycle_id_cycle'), 'cycle', ['cycle_id'], ['id'])



def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_cycle_id_cycle'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_report_cycle_id_org_unit_id'), type_='unique')
        batch_op.drop_column('cycle_id')

    with op.batch_alter_table('cycle_town', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_town_org_unit_id'))

    op.drop_table('cycle_town')
    with op.batch_alter_table('cycle_reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_cycle_reminder_cycle_town')

    op.drop_table('cycle_reminder')
    with op.batch_alter_table('cycle_audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_audit_event_cycle_id'))

    op.drop_table('cycle_audit_event')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_state'))
        batch_op.drop_index('ix_cycle_district_year')

    op.drop_table('cycle')
