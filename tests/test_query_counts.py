"""Lists cost the same number of queries for 2 rows as for 20."""
from __future__ import annotations

from tests.helpers import advance, gen_report, get_user
from tests.querycount import count_queries
from workflow import listing, services
from workflow.db import db


def _queries_for_list(username: str) -> int:
    db.session.expire_all()
    user = get_user(username)
    _ = [p.org_unit.path for p in user.positions]
    listing._wide_lists.clear()  # as a worker's first list of this scope: its count, then its page
    with count_queries() as statements:
        page = services.list_reports(user)
        _ = [(r.title, r.org_unit.name, r.state, r.version) for r in page.items]
        _ = services.inbox(user)
    return len(statements)


def test_report_list_and_inbox_do_not_query_per_row(ctx, world):
    for i in range(2):
        advance(gen_report("qs", title=f"报告{i}").id, "district_review")
    few = _queries_for_list("district_reviewer")
    for i in range(18):
        advance(gen_report("xk" if i % 2 else "qs", title=f"报告{i + 2}").id, "district_review",
                town="xk" if i % 2 else "qs")
    many = _queries_for_list("district_reviewer")
    assert few == many <= 3
