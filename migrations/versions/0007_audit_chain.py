"""audit chains: the global chain of report events, the admin audit chain, their heads, and
who wrote each report's content (separation of duties)

Revision ID: 0007_audit_chain
Revises: 0005_report_view
Create Date: 2026-12-01 16:50:00.000000

Existing rows are linked in id order with the application's own hash functions
(``workflow.audit``); a report's editors start as its creator.
"""
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from workflow.audit import ADMIN_CHAIN, GENESIS, GLOBAL_CHAIN, admin_hash, global_hash

# revision identifiers, used by Alembic.
revision = '0007_audit_chain'
down_revision = '0006_accounts'
branch_labels = None
depends_on = None

report = sa.table('report', sa.column('id', sa.Integer), sa.column('created_by_id', sa.Integer),
                  sa.column('editor_ids', sa.JSON))
audit_event = sa.table('audit_event', sa.column('id', sa.Integer), sa.column('hash', sa.String),
                       sa.column('global_seq', sa.Integer), sa.column('global_prev_hash', sa.String),
                       sa.column('global_hash', sa.String))
admin_audit = sa.table('admin_audit', sa.column('id', sa.Integer), sa.column('actor_id', sa.Integer),
                       sa.column('action', sa.String), sa.column('org_unit_id', sa.Integer),
                       sa.column('target', sa.String), sa.column('detail', sa.JSON),
                       sa.column('created_at', sa.DateTime), sa.column('seq', sa.Integer),
                       sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
head = sa.table('audit_chain_head', sa.column('name', sa.String), sa.column('seq', sa.Integer),
                sa.column('hash', sa.String), sa.column('updated_at', sa.DateTime))


def _backfill(conn) -> dict[str, tuple[int, str]]:
    """Link the existing rows; returns each chain's head."""
    for rid, creator in conn.execute(sa.select(report.c.id, report.c.created_by_id)).all():
        conn.execute(report.update().where(report.c.id == rid).values(editor_ids=[creator]))
    heads = {}
    seq, previous = 0, GENESIS
    for eid, link in conn.execute(sa.select(audit_event.c.id, audit_event.c.hash).order_by(audit_event.c.id)).all():
        seq += 1
        event = SimpleNamespace(global_seq=seq, hash=link, global_prev_hash=previous)
        conn.execute(audit_event.update().where(audit_event.c.id == eid).values(
            global_seq=seq, global_prev_hash=previous, global_hash=global_hash(event)))  # type: ignore[arg-type]
        previous = global_hash(event)  # type: ignore[arg-type]
    heads[GLOBAL_CHAIN] = (seq, previous)
    seq, previous = 0, GENESIS
    for row in conn.execute(sa.select(admin_audit).order_by(admin_audit.c.id)).all():
        seq += 1
        entry = SimpleNamespace(**{**row._mapping, "seq": seq, "prev_hash": previous})
        previous = admin_hash(entry)  # type: ignore[arg-type]
        conn.execute(admin_audit.update().where(admin_audit.c.id == row.id).values(
            seq=seq, prev_hash=entry.prev_hash, hash=previous))
    heads[ADMIN_CHAIN] = (seq, previous)
    return heads


def upgrade():
    op.create_table('audit_chain_head',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_audit_chain_head'))
    )
    # A plain ADD COLUMN (with its default): recreating ``report`` in batch mode on SQLite would
    # drop the old table, and its cascading foreign keys would take every report's rows with it.
    op.add_column('report', sa.Column('editor_ids', sa.JSON(), server_default='[]', nullable=False))
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('global_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('global_prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('global_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    heads = _backfill(conn)
    now = sa.func.now() if conn.dialect.name == "postgresql" else sa.text("CURRENT_TIMESTAMP")
    for name, (seq, link) in heads.items():
        conn.execute(head.insert().values(name=name, seq=seq, hash=link, updated_at=now))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('global_seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('global_prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('global_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_global_seq'), ['global_seq'])
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('actor_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_admin_audit_seq'), ['seq'])


def downgrade():
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_admin_audit_seq'), type_='unique')
        # actor_id stays nullable: the command line's grants (no actor) are kept, not dropped.
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_global_seq'), type_='unique')
        batch_op.drop_column('global_hash')
        batch_op.drop_column('global_prev_hash')
        batch_op.drop_column('global_seq')
    op.drop_column('report', 'editor_ids')
    op.drop_table('audit_chain_head')
