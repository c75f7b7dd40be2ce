"""Separation of duties: nobody approves, at any level, what they submitted or wrote; nobody
grants themselves a role; an admin changes only units and users of their own subtree. Each
refusal is a domain error with a reason, translated in the UI and the API, and leaves a line
in the admin audit trail (whose chain still verifies)."""
from __future__ import annotations

import pytest

from tests.helpers import API, Api, act, advance, browser_as, error_of, gen_report, get_user, login, post_form
from workflow import admin, audit, services
from workflow.db import db
from workflow.errors import Forbidden, NotFound
from workflow.models import AdminAudit, Position, Report


def _audit_rows(action: str) -> list[AdminAudit]:
    return list(db.session.scalars(db.select(AdminAudit).where(AdminAudit.action == action).order_by(AdminAudit.seq)))


def _cli_grant(username: str, unit: int, role: str) -> None:
    admin.grant_position(None, user_id=get_user(username).id, org_unit_id=unit, role=role)


def test_an_admin_cannot_grant_himself_a_role_and_so_cannot_approve(ctx, world):
    report = advance(gen_report("qs").id, "district_review")
    boss = get_user("admin")
    with pytest.raises(Forbidden) as refused:
        admin.grant_position(boss, user_id=boss.id, org_unit_id=world["district"], role="district_reviewer")
    assert refused.value.reason == "self_grant"
    assert not db.session.scalar(db.select(Position.id).where(Position.user_id == boss.id,
                                                              Position.role == "district_reviewer"))
    with pytest.raises(Forbidden) as no_role:
        services.perform(boss, report.id, "approve", version=report.version)
    assert no_role.value.reason == "action_not_allowed"
    [row] = _audit_rows("grant_refused")
    assert (row.actor_id, row.target, row.org_unit_id) == (boss.id, f"user:{boss.id}", world["district"])
    assert row.detail["reason"] == "self_grant" and row.detail["role"] == "district_reviewer"
    assert audit.verify_admin()[1] == []


def test_a_district_reviewer_who_is_also_the_town_author_cannot_approve_his_own_submission(ctx, world):
    _cli_grant("district_reviewer", world["qs"], "author")
    report = gen_report("qs", author="district_reviewer")
    act(report.id, "district_reviewer", "submit")
    act(report.id, "qs_reviewer", "approve")
    reviewer = get_user("district_reviewer")
    report = db.session.get(Report, report.id)
    assert "approve" not in services.allowed_actions(reviewer, report)
    assert report.id not in [r.id for r in services.inbox(reviewer)]
    with pytest.raises(Forbidden) as refused:
        services.perform(reviewer, report.id, "approve", version=report.version)
    assert refused.value.reason == "self_approval"
    assert db.session.get(Report, report.id).state == "district_review"
    [row] = _audit_rows("approve_refused")
    assert (row.actor_id, row.target, row.org_unit_id) == (reviewer.id, f"report:{report.id}", world["qs"])
    assert row.detail == {"reason": "self_approval", "state": "district_review", "version": 1}
    act(report.id, "district_reviewer", "return", "请他人审核")  # returning stays possible


def test_a_district_reviewer_who_only_edited_the_draft_cannot_approve_it_either(ctx, world):
    _cli_grant("district_reviewer", world["qs"], "author")
    report = gen_report("qs")
    services.update_draft(get_user("district_reviewer"), report.id, version=report.version, title="改过的标题")
    report = advance(report.id, "district_review")
    with pytest.raises(Forbidden) as refused:
        act(report.id, "district_reviewer", "approve")
    assert refused.value.reason == "approve_own_edit"
    assert _audit_rows("approve_refused")[0].detail["reason"] == "approve_own_edit"


def test_a_town_reviewer_who_edited_the_version_cannot_approve_it(ctx, world):
    _cli_grant("qs_reviewer", world["qs"], "author")
    report = gen_report("qs")
    services.update_draft(get_user("qs_reviewer"), report.id, version=report.version,
                          text="一、发展特色产业\n新建茶园900亩。\n二、办好民生实事\n新增养老床位40张。\n")
    act(report.id, "qs_author", "submit")  # someone else submits it
    report = db.session.get(Report, report.id)
    assert report.editor_ids == [get_user("qs_author").id, get_user("qs_reviewer").id]
    assert services.allowed_actions(get_user("qs_reviewer"), report) == ["return"]
    with pytest.raises(Forbidden) as refused:
        act(report.id, "qs_reviewer", "approve")
    assert refused.value.reason == "approve_own_edit"
    assert db.session.get(Report, report.id).state == "town_review"
    assert [r.detail["reason"] for r in _audit_rows("approve_refused")] == ["approve_own_edit"]
    # The content carries on into the next draft: after a return and a resubmission by another
    # author, the edit is still his.
    act(report.id, "qs_reviewer", "return", "请补充")
    act(report.id, "qs_author", "submit")
    with pytest.raises(Forbidden):
        act(report.id, "qs_reviewer", "approve")


def test_an_admin_grants_and_revokes_only_inside_his_subtree(ctx, world):
    boss = get_user("admin")
    # A unit of another district: answered like a missing one, and recorded.
    with pytest.raises(NotFound):
        admin.grant_position(boss, user_id=world["nobody"], org_unit_id=world["lh"], role="author")
    # A user of another district only: answered like a missing one.
    with pytest.raises(NotFound):
        admin.grant_position(boss, user_id=world["lh_author"], org_unit_id=world["qs"], role="author")
    # A user who also holds a position outside his subtree: refused, grants and revokes alike.
    _cli_grant("other_reviewer", world["qs"], "author")
    with pytest.raises(Forbidden) as refused:
        admin.grant_position(boss, user_id=world["other_reviewer"], org_unit_id=world["xk"], role="author")
    assert refused.value.reason == "user_outside_subtree"
    position = db.session.scalar(db.select(Position).where(Position.user_id == world["other_reviewer"],
                                                           Position.org_unit_id == world["qs"]))
    with pytest.raises(Forbidden) as refused:
        admin.revoke_position(boss, position.id)
    assert refused.value.reason == "user_outside_subtree"
    assert db.session.get(Position, position.id) is not None
    reasons = [(r.action, r.detail["reason"]) for r in db.session.scalars(
        db.select(AdminAudit).where(AdminAudit.action.like("%_refused")).order_by(AdminAudit.seq))]
    assert reasons == [("grant_refused", "org_unit"), ("grant_refused", "user"),
                       ("grant_refused", "user_outside_subtree"), ("revoke_refused", "user_outside_subtree")]
    # Inside his subtree: granted and revoked, each audited.
    granted = admin.grant_position(boss, user_id=world["nobody"], org_unit_id=world["xk"], role="town_reviewer")
    admin.revoke_position(boss, granted.id)
    rows = [(r.action, r.actor_id, r.target, r.org_unit_id, r.detail["role"])
            for r in db.session.scalars(db.select(AdminAudit).where(AdminAudit.action.like("position_%"),
                                                                    AdminAudit.actor_id == boss.id))]
    assert rows == [("position_granted", boss.id, f"user:{world['nobody']}", world["xk"], "town_reviewer"),
                    ("position_revoked", boss.id, f"user:{world['nobody']}", world["xk"], "town_reviewer")]
    assert audit.verify_admin()[1] == []


def test_the_refusals_are_translated_in_the_api(app, client, world):
    with app.app_context():
        _cli_grant("qs_reviewer", world["qs"], "author")
        report = gen_report("qs", author="qs_reviewer")
        act(report.id, "qs_author", "submit")
    api = Api(client, "qs_reviewer")
    version = api.report(report.id)["version"]
    assert "approve" not in api.report(report.id)["allowed_actions"]
    response = api.post(f"/reports/{report.id}/actions", json={"action": "approve", "version": version})
    error = error_of(response)
    assert response.status_code == 403 and (error["code"], error["reason"]) == ("forbidden", "approve_own_edit")
    assert error["message"] == "不能审核通过自己撰写或修改过内容的报告，须由他人审核。"
    response = api.post(f"/reports/{report.id}/actions", json={"action": "approve", "version": version},
                        headers={"Accept-Language": "en"})
    assert error_of(response)["message"].startswith("You cannot approve a report whose content you wrote or edited")
    assert client.get(f"{API}/reports/{report.id}", headers=api.headers()).get_json()["state"] == "town_review"


def test_the_refusals_are_translated_in_the_pages(app, client, world):
    with app.app_context():
        _cli_grant("qs_reviewer", world["qs"], "author")
        report = gen_report("qs", author="qs_reviewer")
        act(report.id, "qs_author", "submit")
        version = db.session.get(Report, report.id).version
    login(client, "qs_reviewer")
    page = f"/reports/{report.id}"
    response = post_form(client, f"{page}/actions", {"action": "approve", "version": version}, page=page)
    assert response.headers["Location"] == page
    assert "不能审核通过自己撰写或修改过内容的报告，须由他人审核。" in client.get(page).get_data(as_text=True)
    boss = browser_as(app, "admin")
    user_page = f"/admin/users/{world['admin']}"
    response = post_form(boss, f"{user_page}/positions", {"org_unit_id": world["district"],
                                                          "role": "district_reviewer"}, page=user_page)
    assert response.headers["Location"] == user_page
    html = boss.get(user_page).get_data(as_text=True)
    assert "不能给自己授予岗位，须由其他管理员授予。" in html
    assert "该用户岗位与账号的变更记录" in html and "授予岗位被拒绝 · 区审核人" in html  # the record, in words
    with app.app_context():
        assert [r.detail["reason"] for r in _audit_rows("grant_refused")] == ["self_grant"]


def test_the_api_grants_and_revokes_inside_the_subtree_and_refuses_the_rest_translated(app, client, world):
    boss = Api(client, "admin")
    granted = boss.post(f"/users/{world['nobody']}/positions", json={"org_unit_id": world["xk"], "role": "author"})
    assert granted.status_code == 201, granted.get_json()
    body = granted.get_json()
    assert (body["user_id"], body["org_unit"]["id"], body["role"]) == (world["nobody"], world["xk"], "author")
    assert boss.delete(f"/users/{world['nobody']}/positions/{body['id']}").status_code == 204
    mine = boss.post(f"/users/{world['admin']}/positions", json={"org_unit_id": world["district"],
                                                                  "role": "district_reviewer"})
    error = error_of(mine)
    assert mine.status_code == 403 and error["reason"] == "self_grant"
    assert error["message"] == "不能给自己授予岗位，须由其他管理员授予。"
    english = boss.post(f"/users/{world['admin']}/positions", json={"org_unit_id": world["district"],
                                                                     "role": "district_reviewer"},
                        headers={"Accept-Language": "en"})
    assert error_of(english)["message"] == "You cannot grant yourself a position: another administrator must do it."
    outside = boss.post(f"/users/{world['nobody']}/positions", json={"org_unit_id": world["lh"], "role": "author"})
    assert outside.status_code == 404 and error_of(outside)["reason"] == "org_unit"
    stranger = boss.post(f"/users/{world['lh_author']}/positions", json={"org_unit_id": world["qs"], "role": "author"})
    assert stranger.status_code == 404 and error_of(stranger)["reason"] == "user"
    author = Api(client, "qs_author")
    not_admin = author.post(f"/users/{world['qs_author2']}/positions", json={"org_unit_id": world["qs"],
                                                                              "role": "town_reviewer"})
    assert not_admin.status_code == 403 and error_of(not_admin)["reason"] == "not_unit_admin"
    assert boss.delete(f"/users/{world['nobody']}/positions/{2**63}").status_code == 404
    with app.app_context():
        actions = [(r.action, r.detail.get("reason")) for r in db.session.scalars(
            db.select(AdminAudit).where(AdminAudit.actor_id.is_not(None)).order_by(AdminAudit.seq))]
        assert actions == [("position_granted", None), ("position_revoked", None), ("grant_refused", "self_grant"),
                           ("grant_refused", "self_grant"), ("grant_refused", "org_unit"), ("grant_refused", "user"),
                           ("grant_refused", "not_unit_admin")]
        assert audit.verify_admin()[1] == []
