"""The report list at a province's scale (workflow.listing): keyset pages that neither repeat
nor skip a report, a capped count, the report's copy of its town's path, the town picker in
the user's scope, and queries per page that do not grow with the page or the list."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import insert, update

from tests.helpers import gen_report, get_html, get_user, login
from tests.querycount import count_queries
from workflow import listing, services
from workflow.db import db
from workflow.errors import BadInput
from workflow.models import OrgUnit, Report


def _walk(user, per_page: int, **filters) -> list[int]:
    """Every report id of the list, page after page by cursor."""
    seen: list[int] = []
    page = services.list_reports(user, per_page=per_page, **filters)
    seen += [r.id for r in page.items]
    while page.next_cursor:
        page = services.list_reports(user, per_page=per_page, cursor=page.next_cursor, **filters)
        assert page.page is None
        seen += [r.id for r in page.items]
    return seen


def test_cursor_pages_neither_repeat_nor_skip_reports_with_equal_activity_times(ctx, world):
    ids = [gen_report("qs" if i % 3 else "xk", title=f"报告{i}").id for i in range(23)]
    same = dt.datetime(2026, 11, 30, 8, 0, 0)
    db.session.execute(update(Report).where(Report.id.in_(ids[:15])).values(updated_at=same))
    db.session.commit()
    reviewer = get_user("district_reviewer")

    walked = _walk(reviewer, per_page=4)

    assert len(walked) == len(set(walked)) == 23
    assert walked == [r.id for r in services.list_reports(reviewer, per_page=50).items]
    # Equal times are ordered by id, newest first; the others (later) come before them.
    assert walked[-15:] == sorted(ids[:15], reverse=True)
    assert _walk(reviewer, per_page=4, org_unit_id=world["xk"]) == [i for i in walked if i in ids[::3]]


def test_a_page_number_still_works_and_a_bad_cursor_is_refused(ctx, world):
    ids = [gen_report("qs", title=f"报告{i}").id for i in range(5)]
    reviewer = get_user("district_reviewer")
    second = services.list_reports(reviewer, per_page=2, page=2)
    assert second.page == 2 and [r.id for r in second.items] == sorted(ids, reverse=True)[2:4]
    with pytest.raises(BadInput) as caught:
        services.list_reports(reviewer, cursor="yesterday_x")
    assert caught.value.reason == "bad_cursor"


def test_the_count_stops_at_the_cap(ctx, world):
    author = get_user("qs_author")
    town = db.session.get(OrgUnit, world["qs"])
    rows = [{"org_unit_id": town.id, "org_path": town.path, "kind": "annual_plan", "year": 2026,
             "title": f"报告{i}", "state": "draft", "created_by_id": author.id} for i in range(listing.COUNT_CAP + 5)]
    db.session.execute(insert(Report), rows)
    db.session.commit()

    reviewer = get_user("district_reviewer")
    page = services.list_reports(reviewer)
    assert (page.total, page.capped) == (listing.COUNT_CAP, True)
    # A list this wide is read in activity order (not through the path index): the same rows.
    walked = _walk(reviewer, per_page=100)
    assert len(walked) == len(set(walked)) == listing.COUNT_CAP + 5
    assert walked[:20] == [r.id for r in page.items] == sorted(walked, reverse=True)[:20]
    small = services.list_reports(get_user("lh_author"))
    assert (small.total, small.capped) == (0, False)


def test_the_plan_follows_the_lists_width_and_never_changes_the_answer(ctx, world):
    """A worker remembers whether a list was wider than COUNT_CAP (read in activity order) or
    not (through the path index) and then reads the page and its count in one statement. When
    the list has grown past the cap meanwhile, the answer is still the one a fresh worker gives."""
    reviewer = get_user("district_reviewer")
    listing._wide_lists.clear()
    ids = [gen_report("qs", title=f"报告{i}").id for i in range(3)]
    _ = [p.org_unit.path for p in reviewer.positions]  # what the scope reads, loaded beforehand
    with count_queries() as first:
        cold = services.list_reports(reviewer)
    with count_queries() as second:
        warm = services.list_reports(reviewer)
    assert (len(first), len(second)) == (2, 1)  # the count, then the page; then both at once
    assert [r.id for r in cold.items] == [r.id for r in warm.items] == sorted(ids, reverse=True)
    assert (cold.total, cold.capped) == (warm.total, warm.capped) == (3, False)

    author = get_user("qs_author")
    town = db.session.get(OrgUnit, world["qs"])
    db.session.execute(insert(Report), [
        {"org_unit_id": town.id, "org_path": town.path, "kind": "annual_plan", "year": 2026, "title": f"报告{i}",
         "state": "draft", "created_by_id": author.id} for i in range(listing.COUNT_CAP + 1)])
    db.session.commit()
    stale = services.list_reports(reviewer)  # read through the path index: the old width
    listing._wide_lists.clear()
    fresh = services.list_reports(reviewer)  # counted first, read in activity order
    assert [r.id for r in stale.items] == [r.id for r in fresh.items]
    assert (stale.total, stale.capped) == (fresh.total, fresh.capped) == (listing.COUNT_CAP, True)
    assert listing._wide_lists  # and the next list of this worker is read in activity order


def test_a_report_carries_its_towns_path_however_it_is_created(ctx, world):
    made = gen_report("xk")
    assert made.org_path == db.session.get(OrgUnit, world["xk"]).path
    direct = Report(org_unit_id=world["lh"], kind="annual_plan", year=2026, title="直接写入",
                    created_by_id=get_user("lh_author").id)
    db.session.add(direct)
    db.session.commit()
    assert direct.org_path == db.session.get(OrgUnit, world["lh"]).path
    assert [r.id for r in services.list_reports(get_user("other_reviewer")).items] == [direct.id]
    assert direct.id not in [r.id for r in services.list_reports(get_user("district_reviewer")).items]


def test_the_migration_fills_in_the_path_of_existing_reports(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from tests.helpers import build_world

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                      "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        world = build_world()
        rid = gen_report("xk").id
        db.session.remove()
        downgrade(revision="0005_report_view")
        upgrade()
        assert db.session.get(Report, rid).org_path == db.session.get(OrgUnit, world["xk"]).path
        assert [r.id for r in services.list_reports(get_user("district_reviewer")).items] == [rid]
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- the page and its picker


def _list_page_queries(app, client, url: str) -> int:
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_list_page_costs_the_same_queries_for_2_or_40_reports_and_on_a_later_page(app, client, world):
    with app.app_context():
        for i in range(2):
            gen_report("qs", title=f"报告{i}")
    login(client, "district_reviewer")
    client.get("/reports")  # the session's first request loads what every page needs
    few = _list_page_queries(app, client, "/reports")
    with app.app_context():
        for i in range(38):
            gen_report("xk" if i % 2 else "qs", title=f"报告{i + 2}")
    many = _list_page_queries(app, client, "/reports")
    html = get_html(client, "/reports")
    next_link = re.search(r'href="([^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    later = _list_page_queries(app, client, next_link)
    assert few == many == later


def test_the_town_picker_offers_only_the_towns_in_scope(app, client, world):
    login(client, "district_reviewer")
    names = [u["name"] for u in client.get("/reports/towns?q=镇").get_json()["items"]]
    assert names == ["青山镇", "溪口镇"]
    assert [u["name"] for u in client.get("/reports/towns?q=溪").get_json()["items"]] == ["溪口镇"]
    assert client.get("/reports/towns?q=临湖").get_json()["items"] == []
    assert 'data-picker="/reports/towns"' in get_html(client, "/reports")


def test_without_javascript_the_town_is_found_by_part_of_its_name(app, client, world):
    with app.app_context():
        gen_report("qs", title="青山的报告")
        gen_report("xk", title="溪口的报告")
    login(client, "district_reviewer")
    html = get_html(client, "/reports?town=溪口")
    assert "溪口的报告" in html and "青山的报告" not in html
    assert "<option" not in html.split('id="town-picks"')[1].split("</datalist>")[0]


def test_a_town_author_gets_no_town_filter(app, client, world):
    login(client, "qs_author")
    assert "data-picker" not in get_html(client, "/reports")
    assert [u["name"] for u in client.get("/reports/towns").get_json()["items"]] == ["青山镇"]


def test_the_api_searches_org_units_a_page_at_a_time_and_keeps_the_tree(as_user, world):
    reviewer = as_user("district_reviewer")
    tree = reviewer.get("/org-units").get_json()
    assert [u["name"] for u in tree["items"]] == ["示范区"]
    assert [c["name"] for c in tree["items"][0]["children"]] == ["青山镇", "溪口镇"]

    first = reviewer.get("/org-units?kind=town&limit=1").get_json()
    assert [u["name"] for u in first["items"]] == ["青山镇"] and first["items"][0]["parent_name"] == "示范区"
    second = reviewer.get(f"/org-units?kind=town&limit=1&cursor={first['next_cursor']}").get_json()
    assert [u["name"] for u in second["items"]] == ["溪口镇"] and second["next_cursor"] is None
    assert reviewer.get("/org-units?q=临湖").get_json() == {"items": [], "next_cursor": None}
    children = reviewer.get(f"/org-units?parent={world['district']}").get_json()
    assert len(children["items"]) == 2
    assert reviewer.get("/org-units?limit=500").status_code == 400


def test_the_api_list_pages_by_cursor(as_user, world, app):
    with app.app_context():
        ids = [gen_report("qs", title=f"报告{i}").id for i in range(5)]
    reviewer = as_user("district_reviewer")
    first = reviewer.get("/reports?per_page=3").get_json()
    assert (first["total"], first["total_capped"], first["page"]) == (5, False, 1)
    rest = reviewer.get(f"/reports?per_page=3&cursor={first['next_cursor']}").get_json()
    assert rest["page"] is None and rest["next_cursor"] is None
    assert [r["id"] for r in first["items"] + rest["items"]] == sorted(ids, reverse=True)
    old = reviewer.get("/reports?per_page=3&page=2").get_json()
    assert old["page"] == 2 and [r["id"] for r in old["items"]] == [r["id"] for r in rest["items"]]


def test_the_api_list_rows_answer_what_the_schema_dumps_from_the_reports(app, ctx, world):
    """``serialize.report_page`` writes the items out from rows (``summary=True``) instead of
    dumping ``Report`` objects through marshmallow: the same JSON, snippets included."""
    from web.api import schemas, serialize

    for i in range(3):
        gen_report("qs" if i % 2 else "xk", title=f"高标准农田建设报告{i}")
    reviewer = get_user("district_reviewer")
    for filters in ({}, {"q": "高标准农田"}):
        objects = services.list_reports(reviewer, per_page=2, **filters)
        rows = services.list_reports(reviewer, per_page=2, summary=True, **filters)
        assert objects.items and [r.id for r in rows.items] == [r.id for r in objects.items]
        expected = schemas.ReportListSchema().dump({
            "items": [serialize._summary_dict(r) | ({"snippet": objects.snippets[r.id].text, "snippet_highlights": [
                list(h) for h in objects.snippets[r.id].highlights]} if r.id in objects.snippets else {})
                      for r in objects.items],
            "total": objects.total, "total_capped": objects.capped, "page": objects.page,
            "per_page": objects.per_page, "next_cursor": objects.next_cursor})
        with app.test_request_context():
            assert serialize.report_page(rows) == expected
        assert bool(filters) == all("snippet" in item for item in expected["items"])
