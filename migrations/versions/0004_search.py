"""full-text search: report_search (a report's searchable text) with its index — FTS5 with the
trigram tokenizer on SQLite, pg_trgm's GIN index on PostgreSQL (plain ILIKE, with a warning,
where the extension cannot be created) — and the backfill of every existing report

Revision ID: 0004_search
Revises: 0003_outbox
Create Date: 2026-12-02 09:00:00.000000

The index's DDL lives in workflow/search.py (``install``), shared with the tests' create_all.
"""
import logging

import sqlalchemy as sa
from alembic import op

from workflow import search

# revision identifiers, used by Alembic.
revision = '0004_search'
down_revision = '0003_outbox'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    op.create_table('report_search',
    sa.Column('report_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_search_report_id_report'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_report_search'))
    )
    bind = op.get_bind()
    how = search.install(bind)
    count = search.backfill(bind)
    log.info("report search: %s, %d report(s) indexed", how, count)


def downgrade():
    search.uninstall(op.get_bind())
    op.drop_table('report_search')
