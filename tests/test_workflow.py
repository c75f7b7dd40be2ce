"""The workflow table, cell by cell, at the service layer: every (state × action × user)
either succeeds with the right audit event or answers 403/404/409/422 and changes nothing."""
from __future__ import annotations

import pytest

from tests.helpers import CLEAN_TEXT, PASSWORD, PLACEHOLDER_TEXT, act, advance, gen_report, get_user
from workflow import services
from workflow.audit import verify_chains
from workflow.db import db
from workflow.errors import BadInput, Conflict, DomainError, Forbidden, Invalid, NotFound
from workflow.models import AuditEvent, Publication, Report
from workflow.table import ACTIONS, STATES, TRANSITIONS

# DESIGN.md's table, written out independently of workflow/table.py: (state, action, user).
# qs_author submits in these stories; qs_author2 is another author of the same town.
ALLOWED = {
    ("draft", "submit", "qs_author"), ("draft", "submit", "qs_author2"),
    ("town_review", "withdraw", "qs_author"),
    ("town_review", "approve", "qs_reviewer"), ("town_review", "return", "qs_reviewer"),
    ("district_review", "approve", "district_reviewer"), ("district_review", "return", "district_reviewer"),
}
TARGET = {("draft", "submit"): "town_review", ("town_review", "withdraw"): "draft",
          ("town_review", "approve"): "district_review", ("town_review", "return"): "draft",
          ("district_review", "approve"): "published", ("district_review", "return"): "draft"}
IN_SCOPE = ["qs_author", "qs_author2", "qs_reviewer", "district_reviewer", "admin"]
OUT_OF_SCOPE = ["xk_author", "xk_reviewer", "lh_author", "other_reviewer", "nobody"]


def test_the_table_is_the_design():
    assert {(t.source, t.action): t.target for t in TRANSITIONS} == TARGET
    assert set(ACTIONS) == {"submit", "withdraw", "approve", "return"}
    assert all(t.needs_comment for t in TRANSITIONS if t.action == "return")


def _snapshot(report_id: int):
    db.session.expire_all()
    r = db.session.get(Report, report_id)
    events = db.session.scalar(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.report_id == report_id))
    return r.state, r.version, r.content_number, events


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("username", IN_SCOPE + OUT_OF_SCOPE)
def test_every_cell_of_the_workflow(ctx, world, state, action, username):
    report = gen_report("qs")
    advance(report.id, state)
    before = _snapshot(report.id)
    user = get_user(username)
    seen = before[1]
    if (state, action, username) in ALLOWED:
        result = services.perform(user, report.id, action, version=seen, comment="理由：数据需核实")
        assert result.state == TARGET[(state, action)]
        assert result.version == seen + 1
        last = services.history(result)[-1]
        assert (last.action, last.from_state, last.to_state, last.actor_id) == (
            action, state, TARGET[(state, action)], user.id)
        assert last.content_sha256 == db.session.get(Report, report.id).versions[before[2] - 1].content_sha256
        assert verify_chains([report.id]) == (before[3] + 1, [])
        return
    with pytest.raises(DomainError) as err:
        services.perform(user, report.id, action, version=seen, comment="理由：数据需核实")
    if username in OUT_OF_SCOPE:
        assert isinstance(err.value, NotFound)
    elif (state, action) not in TARGET:
        assert isinstance(err.value, Conflict)  # the state does not allow this action at all
    else:
        assert isinstance(err.value, Forbidden)
    assert _snapshot(report.id) == before


def test_a_stale_version_is_refused_and_changes_nothing(ctx, world):
    report = gen_report("qs")
    before = _snapshot(report.id)
    with pytest.raises(Conflict):
        services.perform(get_user("qs_author"), report.id, "submit", version=before[1] - 1)
    assert _snapshot(report.id) == before


def test_a_return_needs_a_reason(ctx, world):
    report = advance(gen_report("qs").id, "town_review")
    before = _snapshot(report.id)
    for blank in (None, "", "   \n "):
        with pytest.raises(Invalid):
            services.perform(get_user("qs_reviewer"), report.id, "return", version=report.version, comment=blank)
    assert _snapshot(report.id) == before


def test_nobody_approves_their_own_submission(ctx, world):
    from workflow import admin

    head = get_user("qs_reviewer")
    admin.grant_position(None, user_id=head.id, org_unit_id=world["qs"], role="author")
    report = gen_report("qs", author="qs_reviewer")
    report = act(report.id, "qs_reviewer", "submit")
    assert "approve" not in services.allowed_actions(head, report)
    assert report.id not in [r.id for r in services.inbox(head)]  # it waits on another reviewer
    with pytest.raises(Forbidden):
        act(report.id, "qs_reviewer", "approve")
    assert act(report.id, "qs_reviewer", "withdraw").state == "draft"


def test_only_the_submitter_withdraws(ctx, world):
    report = advance(gen_report("qs").id, "town_review")
    assert "withdraw" in services.allowed_actions(get_user("qs_author"), report)
    assert "withdraw" not in services.allowed_actions(get_user("qs_author2"), report)
    with pytest.raises(Forbidden):
        act(report.id, "qs_author2", "withdraw")


def test_placeholders_block_submit_with_the_problems_listed(ctx, world):
    report = gen_report("qs", text=PLACEHOLDER_TEXT)
    assert "submit" not in services.allowed_actions(get_user("qs_author"), report)
    with pytest.raises(Invalid) as err:
        act(report.id, "qs_author", "submit")
    codes = {p["code"] for p in err.value.details["problems"]}
    assert codes == {"placeholder"}
    assert db.session.get(Report, report.id).state == "draft"


def test_submit_freezes_the_version_and_a_return_opens_the_next(ctx, world):
    report = gen_report("qs")
    report = act(report.id, "qs_author", "submit")
    v1 = report.versions[0]
    assert v1.frozen_at is not None and report.content_number == 1
    with pytest.raises(Conflict):  # frozen: no edit while under review
        services.update_draft(get_user("qs_author"), report.id, version=report.version,
                              text=CLEAN_TEXT + "三、其他\n补充。")
    report = act(report.id, "qs_reviewer", "return", comment="请补充民生部分的数据")
    assert report.state == "draft" and report.content_number == 2
    saved = services.update_draft(get_user("qs_author"), report.id, version=report.version,
                                  text=CLEAN_TEXT.replace("40张", "60张"))
    assert saved.report.current.content_sha256 != v1.content_sha256
    assert db.session.get(Report, report.id).versions[0].content_sha256 == v1.content_sha256  # v1 untouched
    report = act(report.id, "qs_author", "submit")
    assert [e.version_number for e in services.history(report)] == [1, 1, 1, 2]


def test_district_approval_binds_the_publication_to_the_approved_content(ctx, world):
    report = advance(gen_report("qs").id, "published")
    pub = db.session.scalar(db.select(Publication).where(Publication.report_id == report.id))
    approved = services.history(report)[-1]
    assert approved.action == "approve" and approved.to_state == "published"
    assert pub.content_sha256 == approved.content_sha256 == report.current.content_sha256
    assert pub.status in ("queued", "running", "ready")
    for action in ACTIONS:  # published is immutable, forever
        with pytest.raises(Conflict):
            services.perform(get_user("district_reviewer"), report.id, action, version=report.version, comment="x")
    with pytest.raises(Conflict):
        services.update_draft(get_user("qs_author"), report.id, version=report.version, title="改标题")


def test_tampering_with_the_audit_log_is_detected(ctx, world):
    report = advance(gen_report("qs").id, "district_review")
    checked, problems = verify_chains()
    assert checked == 3 and problems == []
    event = services.history(report)[1]
    event.comment = "后来改写的意见"
    db.session.commit()
    _, problems = verify_chains()
    assert [(p.report_id, p.seq) for p in problems] == [(report.id, 2)]


def test_verify_audit_command_fails_on_a_broken_chain(app, world):
    runner = app.test_cli_runner()
    with app.app_context():
        report = advance(gen_report("qs").id, "town_review")
        assert runner.invoke(args=["verify-audit"]).exit_code == 0
        db.session.execute(db.update(AuditEvent).where(AuditEvent.report_id == report.id, AuditEvent.seq == 1)
                           .values(action="tampered"))
        db.session.commit()
    result = runner.invoke(args=["verify-audit"])
    assert result.exit_code == 1 and "hash does not match" in result.output


def test_out_of_scope_reports_answer_like_missing_ones(ctx, world):
    report = gen_report("qs")
    for username in OUT_OF_SCOPE:
        with pytest.raises(NotFound) as a:
            services.get_report(get_user(username), report.id)
        with pytest.raises(NotFound) as b:
            services.get_report(get_user(username), 999_999)
        assert (a.value.key, a.value.params) == (b.value.key, b.value.params) == ("not_found.report", {})
    with pytest.raises(NotFound):
        services.get_report(get_user("qs_author"), "not-a-number")


def test_lists_and_inboxes_respect_scope_and_roles(ctx, world):
    qs = gen_report("qs")
    xk = gen_report("xk", title="溪口镇计划")
    lh = gen_report("lh", title="临湖镇计划")
    advance(xk.id, "town_review", town="xk")
    ids = lambda page: {r.id for r in page.items}
    assert ids(services.list_reports(get_user("qs_author"))) == {qs.id}
    assert ids(services.list_reports(get_user("district_reviewer"))) == {qs.id, xk.id}
    assert ids(services.list_reports(get_user("other_reviewer"))) == {lh.id}
    assert ids(services.list_reports(get_user("nobody"))) == set()
    assert ids(services.list_reports(get_user("district_reviewer"), state="town_review")) == {xk.id}
    assert ids(services.list_reports(get_user("district_reviewer"), org_unit_id=world["qs"])) == {qs.id}
    assert services.list_reports(get_user("district_reviewer"), org_unit_id=world["lh"]).total == 0
    assert [r.id for r in services.inbox(get_user("xk_reviewer"))] == [xk.id]
    assert [r.id for r in services.inbox(get_user("qs_author"))] == [qs.id]
    assert services.inbox(get_user("district_reviewer")) == []
    with pytest.raises(BadInput):
        services.list_reports(get_user("qs_author"), state="nonsense")


def test_review_comments_must_be_answered_before_resubmitting(ctx, world):
    report = advance(gen_report("qs").id, "district_review")
    section = report.current.outline["sections"][1]["id"]
    comment = services.add_comment(get_user("district_reviewer"), report.id, body="民生部分缺少资金来源",
                                   section_id=section)
    assert comment.status == "open"
    report = act(report.id, "district_reviewer", "return", comment="见批注")
    with pytest.raises(Invalid):
        act(report.id, "qs_author", "submit")
    with pytest.raises(Forbidden):
        services.answer_comment(get_user("qs_reviewer"), report.id, comment.id, status="adopted", answer="好")
    answered = services.answer_comment(get_user("qs_author"), report.id, comment.id, status="explained",
                                       answer="资金来自区级专项")
    assert (answered.status, answered.answer_version_number) == ("explained", 2)
    with pytest.raises(Conflict):  # answering twice (a double click) changes nothing
        services.answer_comment(get_user("qs_author"), report.id, comment.id, status="adopted", answer="again")
    assert act(report.id, "qs_author", "submit").state == "town_review"


def test_a_character_the_pdf_fonts_cannot_draw_blocks_submit(ctx, world):
    """Checked against the real PDF fonts (never a silently dropped character in the PDF)."""
    from workflow.content import glyph_checker

    if glyph_checker() is None:
        pytest.skip("the PDF fonts are not installed here")
    report = gen_report("qs", text=CLEAN_TEXT.replace("抓好茶叶产业", "抓好𠮷祥茶叶产业"), title="青山镇计划😀")
    found = {(p["code"], p["severity"], p["section_id"] is None) for p in report.current.problems}
    assert ("missing_glyph", "error", True) in found   # the emoji in the title
    assert ("missing_glyph", "error", False) in found  # the Ext-B character in a section
    with pytest.raises(Invalid):
        act(report.id, "qs_author", "submit")
    fixed = services.update_draft(get_user("qs_author"), report.id, version=report.version,
                                  title="青山镇计划", text=CLEAN_TEXT).report
    assert fixed.current.problems == []
    assert act(report.id, "qs_author", "submit").state == "town_review"


# ---------------------------------------------------------------- one service per feature


def test_credentials_are_checked_once_for_both_front_doors(ctx, world):
    from workflow.credentials import check_credentials
    from workflow.models import User

    assert check_credentials("qs_author", PASSWORD).username == "qs_author"
    assert check_credentials("  qs_author\t", PASSWORD).username == "qs_author"  # a pasted name's spaces
    for username, password in [("qs_author", "wrong-password"), ("no_such_user", PASSWORD), ("", ""),
                               (None, None), ("qs_author", None)]:
        assert check_credentials(username, password) is None
    db.session.get(User, world["qs_author"]).active = False
    db.session.commit()
    assert check_credentials("qs_author", PASSWORD) is None


def test_the_default_diff_is_since_the_last_return_else_the_previous_version(ctx, world):
    report = gen_report("qs")
    rid = report.id
    act(rid, "qs_author", "submit")
    act(rid, "qs_reviewer", "return", "数据需核实")  # version 1 goes back: version 2 is the draft
    act(rid, "qs_author", "submit")
    act(rid, "qs_author", "withdraw")  # version 2 withdrawn: version 3 is the draft
    report = services.get_report(get_user("qs_author"), rid)

    chosen = services.diff_range(report)
    assert (chosen.old.number, chosen.new.number, chosen.since_return) == (1, 3, True)
    chosen = services.diff_range(report, 2)
    assert (chosen.old.number, chosen.new.number, chosen.since_return) == (2, 3, False)
    chosen = services.diff_range(report, None, 2)
    assert (chosen.old.number, chosen.new.number, chosen.since_return) == (1, 2, True)
    fresh = gen_report("qs", title="新计划")
    chosen = services.diff_range(fresh)
    assert (chosen.old.number, chosen.new.number, chosen.since_return) == (1, 1, False)
    with pytest.raises(NotFound):
        services.diff_range(report, 7)
    with pytest.raises(BadInput) as err:
        services.diff_range(report, "x")
    assert (err.value.reason, err.value.params) == ("not_an_integer", {"field": "from"})


def test_each_version_names_its_submitter(ctx, world):
    report = gen_report("qs")
    act(report.id, "qs_author2", "submit")
    act(report.id, "qs_reviewer", "return", "请补充")
    report = services.get_report(get_user("qs_author"), report.id)

    assert [(v.number, u.username if u else None) for v, u in services.versions_with_submitters(report)] == [
        (1, "qs_author2"), (2, None)]


def test_an_admin_manages_the_users_of_their_own_tree_only(ctx, world):
    from workflow import admin

    district_admin = get_user("admin")
    newcomer = admin.create_user(district_admin, username="newcomer", display_name="新人", password="long-enough-pw")
    seen = {u.username for u in admin.users_in_scope(district_admin)}
    assert {"qs_author", "xk_reviewer", "district_reviewer", "nobody", "newcomer"} <= seen
    assert not seen & {"lh_author", "other_reviewer"}  # the other district's people
    assert admin.user_in_scope(district_admin, newcomer.id).username == "newcomer"
    for outsider in (world["lh_author"], 999_999, "abc"):
        with pytest.raises(NotFound):
            admin.user_in_scope(district_admin, outsider)
    # Someone who is no admin sees nobody, not even the unplaced newcomer.
    assert admin.users_in_scope(get_user("qs_author")) == []
    assert admin.is_admin(district_admin) and not admin.is_admin(get_user("district_reviewer"))
    assert {u.name for u in admin.manageable_units(district_admin)} == {"示范区", "青山镇", "溪口镇"}
    # A position is revoked only through its own user.
    position = admin.grant_position(district_admin, user_id=newcomer.id, org_unit_id=world["qs"], role="author")
    with pytest.raises(NotFound):
        admin.revoke_position(district_admin, position.id, user_id=world["qs_author"])
    admin.revoke_position(district_admin, position.id, user_id=newcomer.id)
