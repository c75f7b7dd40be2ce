"""Reporting cycles as the district runs them: opening a cycle, towns starting from it, the
completeness matrix with its counts and rates, scope, 催办 by hand and by the tick."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.cycles_support import (
    EXTRA_TOWNS,
    add_six_towns,
    add_town,
    bring_to,
    events_of,
    open_plan_cycle,
    start,
    today_local,
)
from tests.helpers import act, gen_report, get_user
from tests.querycount import count_queries
from workflow import cycles, events, services
from workflow.cycle_models import Cycle, CycleAuditEvent, Reminder
from workflow.db import db
from workflow.errors import BadInput, Conflict, Forbidden, Invalid, NotFound, TooMany
from workflow.models import Report, utcnow

EVERY_STATUS = {"qs": "published", "xk": "returned", "sq": "district_review", "dl": "town_review", "nt": "draft",
                "lw": "not_started"}


@pytest.fixture
def six(ctx, world):
    add_six_towns(world)
    return world


# ---------------------------------------------------------------- opening


def test_a_district_reviewer_opens_a_cycle_for_every_town_of_the_district(six):
    cycle = open_plan_cycle()
    towns = [t.name for t in cycles.expected_towns(cycle)]
    assert towns == ["青山镇", "溪口镇", *EXTRA_TOWNS.values()]  # not 临湖镇 of the other district
    assert (cycle.state, cycle.kind, cycle.year, cycle.district.name) == ("open", "annual_plan", 2027, "示范区")
    opened = events_of(events.CYCLE_OPENED, cycle.id)
    assert len(opened) == 1
    assert opened[0].payload["org_unit_ids"] == [t.id for t in cycles.expected_towns(cycle)]
    assert opened[0].payload["message"] == "请各镇按时报送。" and opened[0].actor_id == six["district_reviewer"]
    log = cycles.audit_log(cycle)
    assert [(e.action, e.actor_id) for e in log] == [("open", six["district_reviewer"])]


def test_the_expected_towns_can_be_chosen_and_edited(six):
    cycle = open_plan_cycle(org_unit_ids=[six["qs"], six["xk"]])
    assert cycles.expected_count(cycle) == 2
    reviewer = get_user("district_reviewer")
    cycles.set_towns(reviewer, cycle.id, [six["qs"], six["sq"]])
    assert [t.name for t in cycles.expected_towns(cycle)] == ["青山镇", "石桥镇"]
    added = events_of(events.CYCLE_OPENED, cycle.id)[-1]
    assert added.payload["org_unit_ids"] == [six["sq"]]  # only the new town is told
    start(cycle.id, "qs", six)
    with pytest.raises(Conflict) as err:  # a town whose report belongs to the cycle stays
        cycles.set_towns(reviewer, cycle.id, [six["sq"]])
    assert err.value.reason == "cycle_town_has_report"
    with pytest.raises(Invalid) as err:  # a town of another district is never expected
        cycles.set_towns(reviewer, cycle.id, [six["qs"], six["lh"]])
    assert err.value.reason == "cycle_towns_outside"
    assert [e.action for e in cycles.audit_log(cycle)] == ["open", "set_towns"]


@pytest.mark.parametrize("username, error", [
    ("qs_author", NotFound),  # a town's user does not see the district
    ("qs_reviewer", NotFound),
    ("other_reviewer", NotFound),  # another district
])
def test_only_the_districts_reviewers_and_admins_open_cycles(six, username, error):
    with pytest.raises(error):
        open_plan_cycle(username=username)
    assert db.session.scalar(select(func.count(Cycle.id))) == 0


def test_the_admin_of_the_district_opens_cycles_too_but_not_for_a_town(six):
    assert open_plan_cycle(username="admin").created_by_id == six["admin"]
    with pytest.raises(Invalid) as err:
        open_plan_cycle(district=six["qs"])
    assert err.value.reason == "cycle_not_a_district"


def test_bad_input_is_refused_before_anything_is_written(six):
    reviewer = get_user("district_reviewer")
    base = dict(org_unit_id=six["district"], kind="annual_plan", year=2027, title="计划",
                due_date=today_local() + dt.timedelta(days=3))
    for change, error in [({"kind": "poem"}, BadInput), ({"year": 1999}, BadInput), ({"title": " "}, BadInput),
                          ({"due_date": "15/01/2027"}, BadInput), ({"due_date": today_local() - dt.timedelta(days=1)},
                                                                   Invalid),
                          ({"org_unit_ids": []}, Invalid), ({"org_unit_ids": ["x"]}, BadInput)]:
        with pytest.raises(error):
            cycles.open_cycle(reviewer, **(base | change))
    assert db.session.scalar(select(func.count(Cycle.id))) == 0


# ---------------------------------------------------------------- reports in a cycle


def test_a_town_starts_its_report_from_the_cycle_and_only_once(six):
    cycle = open_plan_cycle(template="一、主要目标\n二、重点任务\n三、保障措施")
    author = get_user("qs_author")
    assert [(t.cycle.id, t.town.name, t.days_left) for t in cycles.open_tasks_for_author(author)] == [
        (cycle.id, "青山镇", 7)]
    report = services.create_report(author, org_unit_id=six["qs"], cycle_id=cycle.id,
                                    title="青山镇2027年度工作计划").report
    assert (report.cycle_id, report.kind, report.year) == (cycle.id, "annual_plan", 2027)
    assert [s["heading"] for s in report.current.outline["sections"]] == ["主要目标", "重点任务", "保障措施"]
    assert cycles.open_tasks_for_author(author) == []  # started: no longer a task
    with pytest.raises(Conflict) as err:
        services.create_report(get_user("qs_author2"), org_unit_id=six["qs"], cycle_id=cycle.id, title="again",
                               text="一、再来一份\n内容。")
    assert err.value.reason == "cycle_report_exists" and err.value.details == {"report_id": report.id}
    assert db.session.scalar(select(func.count(Report.id)).where(Report.cycle_id == cycle.id)) == 1


def test_the_database_itself_keeps_one_report_per_town_and_cycle(six):
    cycle = open_plan_cycle()
    first = start(cycle.id, "qs", six)
    db.session.add(Report(org_unit_id=six["qs"], kind="annual_plan", year=2027, title="x",
                          created_by_id=first.created_by_id, cycle_id=cycle.id))
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_closed_cycle_takes_no_new_report_until_reopened(six):
    cycle = open_plan_cycle()
    reviewer = get_user("district_reviewer")
    assert cycles.close_cycle(reviewer, cycle.id).state == "closed"
    with pytest.raises(Conflict) as err:
        start(cycle.id, "qs", six)
    assert err.value.reason == "cycle_closed"
    with pytest.raises(Conflict):
        cycles.close_cycle(reviewer, cycle.id)
    assert cycles.open_tasks_for_author(get_user("qs_author")) == []
    assert cycles.reopen_cycle(reviewer, cycle.id).state == "open"
    assert start(cycle.id, "qs", six).cycle_id == cycle.id
    assert [e.action for e in cycles.audit_log(cycle)] == ["open", "close", "reopen"]
    with pytest.raises(Forbidden):
        cycles.close_cycle(get_user("qs_author"), cycle.id)


def test_a_town_not_expected_and_a_mismatched_kind_are_refused(six):
    cycle = open_plan_cycle(org_unit_ids=[six["xk"]])
    with pytest.raises(NotFound):  # 青山镇 is not expected: its author does not even see the cycle
        start(cycle.id, "qs", six)
    from workflow import admin

    admin.grant_position(None, user_id=six["qs_author"], org_unit_id=six["xk"], role="author")
    with pytest.raises(Invalid) as err:  # an author of both towns sees it, but only 溪口镇 is expected
        start(cycle.id, "qs", six)
    assert err.value.reason == "cycle_town_not_expected"
    with pytest.raises(Invalid) as err:
        services.create_report(get_user("xk_author"), org_unit_id=six["xk"], cycle_id=cycle.id, kind="annual_report",
                               title="x", text="一、总结\n内容。")
    assert err.value.reason == "cycle_mismatch"
    with pytest.raises(NotFound):  # another district's author does not see the cycle
        services.create_report(get_user("lh_author"), org_unit_id=six["lh"], cycle_id=cycle.id, title="x",
                               text="一、总结\n内容。")


# ---------------------------------------------------------------- the matrix


def test_the_matrix_counts_every_status_and_computes_the_rates(six, monkeypatch):
    cycle = open_plan_cycle()
    ids = {town: bring_to(cycle.id, town, six, status) for town, status in EVERY_STATUS.items()
           if town != "dl"}
    # 东岭乡 submits three days after the due date (the clock of the audit log moved on).
    late = utcnow() + dt.timedelta(days=10)
    ids["dl"] = start(cycle.id, "dl", six).id
    monkeypatch.setattr("workflow.audit.utcnow", lambda: late)
    act(ids["dl"], "dl_author", "submit")
    monkeypatch.undo()

    m = cycles.matrix(get_user("district_reviewer"), cycle.id)
    rows = {r.org_unit_name: r for r in m.rows}
    assert {name: r.status for name, r in rows.items()} == {
        "青山镇": "published", "溪口镇": "returned", "石桥镇": "district_review", "东岭乡": "town_review",
        "南塘镇": "draft", "柳湾街道": "not_started"}
    assert m.counts == {s: 1 for s in cycles.STATUSES}
    assert m.expected == 6 and m.actual == 3 and m.on_time == 2
    assert m.reporting_rate == 0.5 and m.on_time_rate == round(2 / 6, 4)
    assert rows["东岭乡"].on_time is False and rows["青山镇"].on_time is True
    assert rows["溪口镇"].on_time is True  # submitted on time once; returned now, so not counted as actual
    assert rows["柳湾街道"].on_time is None and not rows["柳湾街道"].overdue  # not due yet
    assert rows["青山镇"].published_at is not None and rows["石桥镇"].published_at is None
    assert rows["溪口镇"].report_id == ids["xk"] and rows["柳湾街道"].report_id is None
    assert m.days_left == 7

    # Nine days on, the towns that have not submitted are overdue; the others are not.
    later = cycles.matrix(get_user("district_reviewer"), cycle.id, now=utcnow() + dt.timedelta(days=9))
    assert {r.org_unit_name for r in later.rows if r.overdue} == {"溪口镇", "南塘镇", "柳湾街道"}
    assert later.days_left == -2 and later.rows[0].days_in_step >= 9

    not_submitted = cycles.matrix(get_user("district_reviewer"), cycle.id, status="not_submitted")
    assert [r.org_unit_name for r in not_submitted.rows] == ["溪口镇", "南塘镇", "柳湾街道"]
    assert not_submitted.expected == 6  # the figures cover every row, the filter only the listing
    by_status = cycles.matrix(get_user("district_reviewer"), cycle.id, sort="-status")
    assert by_status.rows[0].status == "published" and by_status.rows[-1].status == "not_started"
    with pytest.raises(BadInput):
        cycles.matrix(get_user("district_reviewer"), cycle.id, sort="password")


def test_the_matrix_shows_the_last_reminder_of_each_town(six):
    cycle = open_plan_cycle()
    cycles.remind(get_user("district_reviewer"), cycle.id, org_unit_ids=[six["xk"]])
    rows = {r.org_unit_name: r for r in cycles.matrix(get_user("district_reviewer"), cycle.id).rows}
    assert rows["溪口镇"].last_reminded_at is not None and rows["溪口镇"].reminders == 1
    assert rows["青山镇"].last_reminded_at is None


def test_the_year_view_puts_every_cycle_of_the_year_side_by_side(six):
    plan = open_plan_cycle()
    summary = cycles.open_cycle(get_user("district_reviewer"), org_unit_id=six["district"], kind="annual_report",
                                year=2027, title="2027年工作总结", due_date=today_local() + dt.timedelta(days=30),
                                org_unit_ids=[six["qs"]])
    open_plan_cycle(year=2026, title="2026年度工作计划")
    bring_to(plan.id, "qs", six, "town_review")
    view = cycles.year_view(get_user("district_reviewer"), year=2027)
    assert [c.title for c in view.cycles] == ["2027年度工作计划", "2027年工作总结"]
    assert [name for _id, name in view.towns] == ["青山镇", "溪口镇", *EXTRA_TOWNS.values()]
    assert view.cells[(six["qs"], plan.id)].status == "town_review"
    assert view.cells[(six["qs"], summary.id)].status == "not_started"
    assert (six["xk"], summary.id) not in view.cells  # not expected there


# ---------------------------------------------------------------- scope


def test_a_district_never_sees_another_districts_cycles(six):
    cycle = open_plan_cycle()
    other = get_user("other_reviewer")
    with pytest.raises(NotFound):
        cycles.get_cycle(other, cycle.id)
    with pytest.raises(NotFound):
        cycles.matrix(other, cycle.id)
    with pytest.raises(NotFound):
        cycles.remind(other, cycle.id)
    assert cycles.list_cycles(other).total == 0
    assert cycles.year_view(other, year=2027).cycles == []
    assert [c.id for c in cycles.list_cycles(get_user("admin")).items] == [cycle.id]


def test_a_town_sees_the_cycles_that_expect_it_and_only_its_own_row(six):
    cycle = open_plan_cycle(org_unit_ids=[six["qs"], six["xk"], six["sq"]])
    bring_to(cycle.id, "xk", six, "town_review")
    qs_author = get_user("qs_author")
    assert [c.id for c in cycles.list_cycles(qs_author).items] == [cycle.id]
    m = cycles.matrix(qs_author, cycle.id)
    assert [r.org_unit_name for r in m.rows] == ["青山镇"]
    assert (m.expected, m.actual, m.counts["town_review"]) == (1, 0, 0)  # 溪口镇's progress stays hidden
    assert cycles.progress_of(qs_author, [cycle.id]) == {cycle.id: (1, 0)}
    with pytest.raises(Forbidden):  # seeing the cycle is not running it
        cycles.remind(qs_author, cycle.id)
    nt_author = get_user("nt_author")  # 南塘镇 is not expected: the cycle is not its business
    with pytest.raises(NotFound):
        cycles.get_cycle(nt_author, cycle.id)
    assert cycles.list_cycles(nt_author).total == 0


# ---------------------------------------------------------------- 催办


def test_reminders_never_reach_a_town_that_has_submitted(six):
    cycle = open_plan_cycle()
    for town, status in EVERY_STATUS.items():
        bring_to(cycle.id, town, six, status)
    result = cycles.remind(get_user("district_reviewer"), cycle.id, message="请于本周内报送")
    assert sorted(result.reminded) == sorted([six["xk"], six["nt"], six["lw"]])  # returned, draft, not started
    assert sorted(s["org_unit_id"] for s in result.skipped if s["reason"] == "submitted") == sorted(
        [six["qs"], six["sq"], six["dl"]])
    [event] = events_of(events.REMINDER, cycle.id)
    assert sorted(event.payload["org_unit_ids"]) == sorted(result.reminded)
    assert event.payload["escalate"] is False and event.payload["message"] == "请于本周内报送"
    assert {r.org_unit_id for r in db.session.scalars(select(Reminder))} == set(result.reminded)

    # Asking by name for a town that has submitted changes nothing either.
    later = utcnow() + dt.timedelta(hours=2)
    asked = cycles.remind(get_user("district_reviewer"), cycle.id, org_unit_ids=[six["qs"], six["nt"]], now=later)
    assert asked.reminded == [six["nt"]] and asked.skipped == [{"org_unit_id": six["qs"], "reason": "submitted"}]


def test_one_manual_reminder_per_town_and_cycle_per_hour(six):
    cycle = open_plan_cycle(org_unit_ids=[six["qs"], six["xk"]])
    reviewer = get_user("district_reviewer")
    first = utcnow()
    assert cycles.remind(reviewer, cycle.id, org_unit_ids=[six["qs"]], now=first).reminded == [six["qs"]]
    with pytest.raises(TooMany) as err:
        cycles.remind(reviewer, cycle.id, org_unit_ids=[six["qs"]], now=first + dt.timedelta(minutes=59))
    next_at = (first + dt.timedelta(hours=1)).isoformat(timespec="seconds") + "Z"
    assert err.value.reason == "reminder_too_soon" and err.value.params["next_at"] == next_at
    # 一键催办 a minute later: 溪口镇 is reminded, 青山镇 is listed as reminded recently.
    both = cycles.remind(reviewer, cycle.id, now=first + dt.timedelta(minutes=1))
    assert both.reminded == [six["xk"]]
    assert both.skipped == [{"org_unit_id": six["qs"], "reason": "reminded_recently",
                             "next_at": first + dt.timedelta(hours=1)}]
    with pytest.raises(TooMany):  # every town asked for was reminded within the hour
        cycles.remind(reviewer, cycle.id, now=first + dt.timedelta(minutes=2))
    assert cycles.remind(reviewer, cycle.id, org_unit_ids=[six["qs"]],
                         now=first + dt.timedelta(minutes=61)).reminded == [six["qs"]]
    assert db.session.scalar(select(func.count(Reminder.id))) == 3
    assert len(events_of(events.REMINDER, cycle.id)) == 3
    assert [e.action for e in cycles.audit_log(cycle)].count("remind") == 3  # the refused ones left no trace


def test_a_closed_cycle_is_not_reminded(six):
    cycle = open_plan_cycle()
    cycles.close_cycle(get_user("district_reviewer"), cycle.id)
    with pytest.raises(Conflict):
        cycles.remind(get_user("district_reviewer"), cycle.id)


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    """A Beijing wall-clock time as naive UTC."""
    return dt.datetime.combine(day, dt.time(hour)) - dt.timedelta(hours=8)


def test_automatic_reminders_go_once_however_often_the_tick_runs(six):
    cycle = open_plan_cycle(days=7, org_unit_ids=[six["qs"], six["xk"], six["sq"]])
    bring_to(cycle.id, "sq", six, "town_review")
    due = cycle.due_date
    assert cycles.tick(now=_at(due - dt.timedelta(days=4))).as_dict() == {
        "cycles": 1, "due_soon": 0, "overdue": 0, "escalations": 0}
    for hour in (8, 9, 13, 23):  # three days before the due date, the tick runs again and again
        cycles.tick(now=_at(due - dt.timedelta(days=3), hour))
    soon = events_of(events.CYCLE_DUE_SOON, cycle.id)
    assert len(soon) == 1 and sorted(soon[0].payload["org_unit_ids"]) == sorted([six["qs"], six["xk"]])
    assert soon[0].payload["days_left"] == 3
    bring_to(cycle.id, "xk", six, "town_review")  # 溪口镇 submits; 青山镇 stays silent
    for hour in (0, 12):
        cycles.tick(now=_at(due + dt.timedelta(days=1), hour))
    overdue = events_of(events.CYCLE_OVERDUE, cycle.id)
    assert len(overdue) == 1 and overdue[0].payload["org_unit_ids"] == [six["qs"]]
    kinds = db.session.execute(select(Reminder.org_unit_id, Reminder.kind).order_by(Reminder.id)).all()
    # the escalation of the due-soon reminder waited: one reminder per town per tick
    assert kinds == [(six["qs"], "due_soon"), (six["xk"], "due_soon"), (six["qs"], "overdue")]


def test_a_town_silent_two_days_after_a_reminder_is_escalated_to_its_reviewers(six):
    cycle = open_plan_cycle(days=20, org_unit_ids=[six["qs"], six["xk"], six["sq"]])
    reviewer = get_user("district_reviewer")
    sent = utcnow()
    cycles.remind(reviewer, cycle.id, now=sent)
    bring_to(cycle.id, "sq", six, "town_review")  # answered the reminder
    bring_to(cycle.id, "xk", six, "returned")  # submitted after the reminder, returned since: not silent
    cycles.tick(now=sent + dt.timedelta(days=1, hours=23))
    assert events_of(events.REMINDER, cycle.id)[-1].payload.get("escalate") is False  # not yet
    for _ in range(3):
        cycles.tick(now=sent + dt.timedelta(days=2, minutes=1))
    escalated = [e for e in events_of(events.REMINDER, cycle.id) if e.payload.get("escalate")]
    assert len(escalated) == 1 and escalated[0].payload["org_unit_ids"] == [six["qs"]]
    assert escalated[0].payload["reminder_kind"] == "escalation" and escalated[0].actor_id is None
    row = {r.org_unit_name: r for r in cycles.matrix(reviewer, cycle.id, now=sent + dt.timedelta(days=3)).rows}
    assert row["青山镇"].reminders == 2 and row["青山镇"].last_reminded_at == sent + dt.timedelta(days=2, minutes=1)
    assert db.session.scalar(select(func.count(CycleAuditEvent.id)).where(
        CycleAuditEvent.action == "auto_remind")) == 1


def test_the_tick_spares_closed_cycles_and_towns_told_of_the_cycle_inside_the_window(six):
    soon = open_plan_cycle(days=2, org_unit_ids=[six["qs"]])  # opened two days before its due date
    closed = open_plan_cycle(days=1, org_unit_ids=[six["xk"]], title="已关闭")
    cycles.close_cycle(get_user("district_reviewer"), closed.id)
    result = cycles.tick(now=utcnow() + dt.timedelta(hours=1))
    assert result.as_dict() == {"cycles": 1, "due_soon": 0, "overdue": 0, "escalations": 0}
    assert cycles.tick(now=_at(soon.due_date + dt.timedelta(days=1))).overdue == 1


# ---------------------------------------------------------------- returned reports first


def test_a_returned_report_comes_first_on_its_authors_to_do(six):
    older = gen_report("qs", title="较早的草稿")
    returned = gen_report("qs", title="被退回的报告")
    act(returned.id, "qs_author", "submit")
    act(returned.id, "qs_reviewer", "return", "请补充")
    newer = gen_report("qs", title="新草稿")
    items = services.inbox(get_user("qs_author"))
    assert [r.id for r in items] == [returned.id, older.id, newer.id]
    assert cycles.returned_ids(items) == {returned.id}


# ---------------------------------------------------------------- cost


def _matrix_queries(username: str, cycle_id: int) -> int:
    db.session.expire_all()
    user = get_user(username)
    _ = [p.org_unit.path for p in user.positions]
    with count_queries() as statements:
        m = cycles.matrix(user, cycle_id)
        _ = [(r.status, r.org_unit_name, r.last_reminded_at) for r in m.rows]
        view = cycles.year_view(user, year=2027)
        _ = [c.title for c in view.cycles]
    return len(statements)


def test_the_matrix_costs_the_same_for_3_towns_as_for_30(ctx, world):
    def district_with(n: int, name: str) -> tuple[int, str]:
        key = f"d{n}"
        from workflow import admin

        district = admin.add_org_unit(None, name=name, kind="district")
        world.ids[key] = district.id
        user = admin.create_user(None, username=f"{key}_reviewer", display_name="r", password="test-password-1")
        admin.grant_position(None, user_id=user.id, org_unit_id=district.id, role="district_reviewer")
        statuses = list(cycles.STATUSES)
        for i in range(n):
            add_town(world, f"{key}t{i}", f"{name}{i}镇", parent=key)
        cycle = open_plan_cycle(username=f"{key}_reviewer", district=district.id)
        for i in range(n):
            bring_to(cycle.id, f"{key}t{i}", world, statuses[i % len(statuses)], district_reviewer=f"{key}_reviewer")
        cycles.remind(get_user(f"{key}_reviewer"), cycle.id)
        return cycle.id, f"{key}_reviewer"

    few = _matrix_queries(*reversed(district_with(3, "小区")))
    many = _matrix_queries(*reversed(district_with(30, "大区")))
    assert few == many <= 6
