"""Bulk approval: a reviewer approves many reports at once, each item its own transition — its
own version check, audit event and domain event — so a stale, changed or out-of-scope item
fails alone and says why, and no item is ever half applied. Service, API and browser."""
from __future__ import annotations

import re
import threading

import pytest

from tests.conftest import csrf_from
from tests.helpers import (
    CLEAN_TEXT,
    act,
    advance,
    browser_as,
    ensure_translations_compiled,
    error_of,
    gen_report,
    get_html,
    get_user,
)
from workflow import bulk, services
from workflow.db import db
from workflow.errors import BadInput, TooLarge
from workflow.events import OutboxEvent
from workflow.models import AuditEvent, Publication, Report

ensure_translations_compiled()


def _in_district_review(count: int, town: str = "qs") -> list[int]:
    return [advance(gen_report(town, title=f"{town}报告{i}").id, "district_review", town=town).id
            for i in range(count)]


def _versions(ids: list[int]) -> list[tuple[int, int]]:
    db.session.expire_all()
    return [(rid, db.session.get(Report, rid).version) for rid in ids]


def _approvals(report_id: int) -> int:
    return db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(
        AuditEvent.report_id == report_id, AuditEvent.action == "approve", AuditEvent.to_state == "published"))


def _change_meanwhile(report_id: int, town: str = "qs") -> None:
    """The district returns the report, the town corrects it and sends it up again: back in
    district review, but not the version the reviewer saw."""
    act(report_id, "district_reviewer", "return", "请补充数据")
    report = db.session.get(Report, report_id)
    services.update_draft(get_user(f"{town}_author"), report_id, version=report.version,
                          text=CLEAN_TEXT + "三、补充\n新增数据一项。\n")
    act(report_id, f"{town}_author", "submit")
    act(report_id, f"{town}_reviewer", "approve")


# ---------------------------------------------------------------- the service


def test_one_stale_item_among_several_fails_alone_and_each_success_is_audited_once(ctx, world):
    ids = _in_district_review(4)
    seen = _versions(ids)  # what the reviewer's list showed
    _change_meanwhile(ids[2])
    events_before = db.session.scalar(db.select(db.func.count(OutboxEvent.id)))

    results = bulk.perform_each(get_user("district_reviewer"), "approve", seen, comment="同意发布")

    assert [(r.report_id, r.status) for r in results] == [(ids[0], 200), (ids[1], 200), (ids[2], 409), (ids[3], 200)]
    assert results[2].error.reason == "stale_version"
    assert results[2].error.params == {"seen": seen[2][1], "current": db.session.get(Report, ids[2]).version}
    db.session.expire_all()
    for rid in (ids[0], ids[1], ids[3]):
        report = db.session.get(Report, rid)
        assert report.state == "published"
        assert _approvals(rid) == 1
        last = services.history(report)[-1]
        assert (last.action, last.comment, last.version_number) == ("approve", "同意发布", report.content_number)
        assert db.session.scalar(db.select(db.func.count(Publication.id)).where(Publication.report_id == rid)) == 1
    # The stale one is untouched: still waiting, no approval, no publication.
    stale = db.session.get(Report, ids[2])
    assert stale.state == "district_review" and _approvals(ids[2]) == 0
    assert db.session.scalar(db.select(db.func.count(Publication.id)).where(Publication.report_id == ids[2])) == 0
    # One domain event per success (report_published), none for the failure.
    published = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.kind == "report_published")).all()
    assert sorted(e.report_id for e in published) == sorted([ids[0], ids[1], ids[3]])
    assert db.session.scalar(db.select(db.func.count(OutboxEvent.id))) == events_before + 3
    # The hash chain of every report still verifies.
    from workflow import audit

    checked, problems = audit.verify_chains(ids)
    assert checked > 0 and problems == []


def test_an_out_of_scope_or_missing_id_answers_404_for_that_item_only(ctx, world):
    mine = _in_district_review(2)
    theirs = gen_report("lh", title="临湖镇计划").id  # another district's report
    items = _versions([mine[0], theirs, mine[1]]) + [(999_999, 1)]
    results = bulk.perform_each(get_user("district_reviewer"), "approve", items)
    assert [r.status for r in results] == [200, 404, 200, 404]
    assert results[1].error.key == results[3].error.key == "not_found.report"
    assert db.session.get(Report, theirs).state == "draft"


def test_each_item_is_judged_as_the_single_action_would_be(ctx, world):
    """Not the reviewer's state, not their role, their own submission: each fails alone."""
    town_review = advance(gen_report("qs", title="镇审中").id, "town_review").id
    draft = gen_report("qs", title="草稿").id
    ready = _in_district_review(1)[0]
    results = bulk.perform_each(get_user("district_reviewer"), "approve", _versions([town_review, draft, ready]))
    assert [(r.status, r.error and r.error.key) for r in results] == [
        (403, "forbidden.action_not_allowed"), (409, "conflict.action_not_possible"), (200, None)]


def test_a_town_reviewer_cannot_bulk_approve_their_own_submission(ctx, world):
    # qs_reviewer is also an author here: they submit one report themselves.
    from workflow import admin

    admin.grant_position(None, user_id=world["qs_reviewer"], org_unit_id=world["qs"], role="author")
    own = gen_report("qs", author="qs_reviewer", title="自己提交的").id
    act(own, "qs_reviewer", "submit")
    other = advance(gen_report("qs", title="别人提交的").id, "town_review").id
    results = bulk.perform_each(get_user("qs_reviewer"), "approve", _versions([own, other]))
    assert [(r.status, r.error and r.error.reason) for r in results] == [(403, "self_approval"), (200, None)]
    assert db.session.get(Report, other).state == "district_review"


@pytest.mark.parametrize(("action", "count", "error", "reason"), [
    ("return", 1, BadInput, "bulk_action_not_offered"),
    ("submit", 1, BadInput, "bulk_action_not_offered"),
    ("approve", 0, BadInput, "bulk_no_items"),
    ("approve", bulk.MAX_ITEMS + 1, TooLarge, "bulk_too_many_items"),
])
def test_a_request_outside_the_offer_changes_nothing(ctx, world, action, count, error, reason):
    rid = _in_district_review(1)[0]
    version = db.session.get(Report, rid).version
    with pytest.raises(error) as caught:
        bulk.perform_each(get_user("district_reviewer"), action, [(rid, version)] * count, comment="退回理由")
    assert caught.value.reason == reason
    db.session.expire_all()
    assert db.session.get(Report, rid).state == "district_review"


def test_the_list_offers_only_what_the_reviewer_may_approve_now_and_knows_the_clean_ones(ctx, world):
    clean, commented = _in_district_review(2)
    services.add_comment(get_user("district_reviewer"), commented, body="第二节数据请核实")
    draft = gen_report("qs", title="草稿").id
    town_review = advance(gen_report("qs", title="镇审中").id, "town_review").id
    reports = [db.session.get(Report, rid) for rid in (clean, commented, draft, town_review)]
    offer = bulk.approvable(get_user("district_reviewer"), reports)
    assert set(offer) == {clean, commented}
    assert offer[clean].clean and offer[clean].version == db.session.get(Report, clean).version
    assert not offer[commented].clean and offer[commented].open_comments == 1
    # The town reviewer is offered the report waiting on them, not the district's.
    town_offer = bulk.approvable(get_user("qs_reviewer"), reports)
    assert set(town_offer) == {town_review}


# ---------------------------------------------------------------- racing


def test_racing_bulk_and_single_approvals_approve_each_report_exactly_once(app, world):
    with app.app_context():
        ids = _in_district_review(3)
        seen = _versions(ids)
    barrier = threading.Barrier(4)
    outcomes: dict[str, list] = {"bulk": [], "single": []}
    lock = threading.Lock()

    def bulk_run() -> None:
        with app.app_context():
            user = get_user("district_reviewer")
            barrier.wait()
            results = bulk.perform_each(user, "approve", seen)
            with lock:
                outcomes["bulk"] = [(r.report_id, r.status) for r in results]

    def single_run(rid: int, version: int) -> None:
        with app.app_context():
            user = get_user("district_reviewer")
            barrier.wait()
            try:
                services.perform(user, rid, "approve", version=version)
                status = 200
            except Exception as exc:  # a Conflict is the expected loss; anything else shows up in the assert
                status = getattr(exc, "status", repr(exc))
            with lock:
                outcomes["single"].append((rid, status))

    threads = [threading.Thread(target=bulk_run)] + [threading.Thread(target=single_run, args=s) for s in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes["bulk"]) == 3 and len(outcomes["single"]) == 3
    for rid in ids:
        statuses = sorted([s for r, s in outcomes["bulk"] if r == rid] + [s for r, s in outcomes["single"] if r == rid])
        assert statuses == [200, 409], (rid, outcomes)
    with app.app_context():
        for rid in ids:
            assert db.session.get(Report, rid).state == "published"
            assert _approvals(rid) == 1
            assert db.session.scalar(db.select(db.func.count(Publication.id)).where(Publication.report_id == rid)) == 1


# ---------------------------------------------------------------- the API


def test_the_api_answers_each_items_status_report_or_error(app, world, as_user):
    with app.app_context():
        ids = _in_district_review(3)
        seen = _versions(ids)
        _change_meanwhile(ids[1])
        theirs = gen_report("lh", title="临湖镇计划").id
    api = as_user("district_reviewer")
    items = [{"id": rid, "version": v} for rid, v in seen] + [{"id": theirs, "version": 1}]
    r = api.post("/reports/bulk-actions", json={"action": "approve", "items": items, "comment": "同意"})
    assert r.status_code == 200, r.get_json()
    results = r.get_json()["results"]
    assert [(x["id"], x["status"]) for x in results] == [(ids[0], 200), (ids[1], 409), (ids[2], 200), (theirs, 404)]
    ok = results[0]
    assert ok["report"]["state"] == "published" and ok["report"]["version"] == seen[0][1] + 1 and "error" not in ok
    stale = results[1]
    assert "report" not in stale
    assert stale["error"]["code"] == "conflict" and stale["error"]["reason"] == "stale_version"
    assert stale["error"]["current_version"] > seen[1][1]  # as the single action answers it
    assert stale["error"]["message"]  # in the reader's language
    assert results[3]["error"]["code"] == "not_found" and results[3]["error"]["params"] == {}
    # The single action on the same stale version answers the same error.
    single = api.post(f"/reports/{ids[1]}/actions", json={"action": "approve", "version": seen[1][1]})
    assert single.status_code == 409 and error_of(single)["reason"] == stale["error"]["reason"]
    # English on request.
    english = api.post("/reports/bulk-actions", headers={"Accept-Language": "en"},
                       json={"action": "approve", "items": [{"id": theirs, "version": 1}]})
    assert english.get_json()["results"][0]["error"]["message"] == "Report not found."


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"action": "return", "items": [{"id": 1, "version": 1}], "comment": "x"}, 400, "bulk_action_not_offered"),
    ({"action": "approve", "items": []}, 400, "bulk_no_items"),
    ({"action": "approve", "items": [{"id": 1, "version": 1}] * (bulk.MAX_ITEMS + 1)}, 413, "bulk_too_many_items"),
    ({"action": "approve", "items": [{"id": 1}]}, 400, "invalid_fields"),
    ({"action": "approve", "items": [{"id": "1", "version": 1}]}, 400, "invalid_fields"),
    ({"action": "approve", "items": {"id": 1, "version": 1}}, 400, "invalid_fields"),
    ({"action": "approve"}, 400, "invalid_fields"),
    ({"action": "approve", "items": [{"id": 1, "version": 1}], "comment": "x" * 6000}, 413, "too_many_characters"),
])
def test_the_api_refuses_a_malformed_or_unoffered_request_as_a_whole(app, world, as_user, body, status, reason):
    with app.app_context():
        rid = _in_district_review(1)[0]
    r = as_user("district_reviewer").post("/reports/bulk-actions", json=body)
    assert r.status_code == status, r.get_json()
    assert error_of(r)["reason"] == reason
    with app.app_context():
        assert db.session.get(Report, rid).state == "district_review"


def test_the_bulk_endpoint_is_in_the_openapi_document(client, world):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/reports/bulk-actions"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "413"}
    assert "BulkActionRequest" in spec["components"]["schemas"]


# ---------------------------------------------------------------- the browser


def _boxes(html: str) -> dict[int, tuple[int, bool]]:
    """The bulk checkboxes of a page: report id → (version, checked)."""
    found = {}
    for tag in re.findall(r'<input type="checkbox" name="items"[^>]*>', html):
        rid, version = re.search(r'value="(\d+):(\d+)"', tag).groups()
        found[int(rid)] = (int(version), " checked" in tag)
    return found


def test_the_reviewer_selects_the_clean_reports_and_approves_them_at_once(app, world):
    with app.app_context():
        ids = _in_district_review(3)
        services.add_comment(get_user("district_reviewer"), ids[1], body="请核实第二节")
        draft = gen_report("qs", title="草稿").id
    reviewer = browser_as(app, "district_reviewer")

    page = get_html(reviewer, "/reports?state=district_review")
    boxes = _boxes(page)
    assert set(boxes) == set(ids) and draft not in boxes
    assert 'id="bulk-approve"' in page and "全选无问题的报告" in page
    assert "1 条意见未答复" in page
    # "Select all clean" (without script: the same page with the clean ones ticked).
    selected = get_html(reviewer, "/reports?state=district_review&select=clean")
    assert {rid for rid, (_v, checked) in _boxes(selected).items() if checked} == {ids[0], ids[2]}

    # Meanwhile the last one changes (returned, corrected, sent up again).
    with app.app_context():
        _change_meanwhile(ids[2])
    form = {"csrf_token": csrf_from(selected), "back": "/reports?state=district_review",
            "items": [f"{rid}:{v}" for rid, (v, checked) in _boxes(selected).items() if checked],
            "comment": "同意"}
    result = reviewer.post("/reports/bulk-approve", data=form)
    assert result.status_code == 200
    html = result.get_data(as_text=True)
    assert "已审核通过 1 份报告。" in html and "1 份报告未能审核通过，原因见下。" in html
    assert html.count("bulk-result ok") == 1 and html.count("bulk-result failed") == 1
    assert "报告已被他人修改" in html  # the stale item says why
    assert 'href="/reports?state=district_review"' in html  # back to the filtered list
    with app.app_context():
        assert [db.session.get(Report, rid).state for rid in ids] == ["published", "district_review", "district_review"]
        assert _approvals(ids[0]) == 1


def test_bulk_approval_needs_the_csrf_token(app, world):
    with app.app_context():
        rid = _in_district_review(1)[0]
        version = db.session.get(Report, rid).version
    reviewer = browser_as(app, "district_reviewer")
    r = reviewer.post("/reports/bulk-approve", data={"items": [f"{rid}:{version}"], "back": "/reports"})
    assert r.status_code == 400
    with app.app_context():
        assert db.session.get(Report, rid).state == "district_review"


def test_the_town_head_approves_from_my_to_do_and_sees_each_outcome_in_english(app, world):
    with app.app_context():
        ids = [advance(gen_report("qs", title=f"青山镇报告{i}").id, "town_review").id for i in range(2)]
    head = browser_as(app, "qs_reviewer")
    head.post("/locale", data={"locale": "en", "csrf_token": csrf_from(get_html(head, "/"))})
    todo = get_html(head, "/")
    boxes = _boxes(todo)
    assert set(boxes) == set(ids)
    assert "Approve selected" in todo
    items = [f"{rid}:{v}" for rid, (v, _c) in boxes.items()] + ["999999:1"]
    result = head.post("/reports/bulk-approve", data={"csrf_token": csrf_from(todo), "back": "/", "items": items})
    html = result.get_data(as_text=True)
    assert "2 reports approved." in html and "1 report was not approved: see why below." in html
    assert "Report not found." in html and "Report 999999" in html
    with app.app_context():
        assert {db.session.get(Report, rid).state for rid in ids} == {"district_review"}


@pytest.mark.parametrize(("items", "flash"), [
    ([], "请至少选择一份报告。"),
    (["1:x"], "所选内容无效，请刷新页面后重新选择。"),
    (["1;DROP"], "所选内容无效，请刷新页面后重新选择。"),
])
def test_a_bad_selection_goes_back_to_the_list_with_a_message(app, world, items, flash):
    reviewer = browser_as(app, "district_reviewer")
    page = get_html(reviewer, "/reports")
    r = reviewer.post("/reports/bulk-approve", data={"csrf_token": csrf_from(page), "items": items,
                                                      "back": "https://evil.example/reports"})
    assert r.headers["Location"] == "/reports"  # never elsewhere
    assert flash in get_html(reviewer, "/reports")


def test_what_the_list_offers_costs_one_query_whatever_the_rows(ctx, world):
    """Even for a town head who is also an author, with drafts (whose submit guards query) listed."""
    from tests.querycount import count_queries
    from workflow import admin

    admin.grant_position(None, user_id=world["qs_reviewer"], org_unit_id=world["qs"], role="author")

    def queries() -> int:
        db.session.expire_all()
        user = get_user("qs_reviewer")
        reports = services.list_reports(user, per_page=50).items
        _ = [(r.org_unit.path, r.state) for r in reports] + [p.org_unit.path for p in user.positions]
        with count_queries() as statements:
            offer = bulk.approvable(user, reports)
        assert offer and len(offer) == len([r for r in reports if r.state == "town_review"])
        return len(statements)

    for i in range(2):
        gen_report("qs", title=f"草稿{i}")
        advance(gen_report("qs", title=f"待审{i}").id, "town_review")
    few = queries()
    for i in range(9):
        gen_report("qs", title=f"草稿{i + 2}")
        advance(gen_report("qs", title=f"待审{i + 2}").id, "town_review")
    assert few == queries() == 1
