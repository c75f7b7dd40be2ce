"""The operators' commands: demo seed, users, org units from CSV."""
from __future__ import annotations

from workflow.db import db
from workflow.models import OrgUnit, Position, Report, User

UNITS_CSV = """name,kind,division_code,parent_code
示范区,district,330100000000,
青山镇,town,330100100000,330100000000
溪口镇,town,330100101000,330100000000
"""


def test_seed_demo_writes_the_contract_accounts_once(app):
    runner = app.test_cli_runner()
    with app.app_context():
        db.drop_all()
        db.create_all()
    assert "demo data created" in runner.invoke(args=["seed-demo"]).output
    assert "skipped" in runner.invoke(args=["seed-demo"]).output  # never twice
    with app.app_context():
        positions = {(p.user.username, p.org_unit.name, p.role) for p in db.session.scalars(db.select(Position))}
        assert positions == {
            ("admin", "示范区", "admin"), ("district_reviewer", "示范区", "district_reviewer"),
            ("qs_author", "青山镇", "author"), ("qs_reviewer", "青山镇", "town_reviewer"),
            ("xk_author", "溪口镇", "author"), ("xk_reviewer", "溪口镇", "town_reviewer"),
        }
        assert all(u.check_password("chengbao-demo") for u in db.session.scalars(db.select(User)))
        assert db.session.scalar(db.select(db.func.count(Report.id))) == 8  # with last year's plan and 2 work reports
        towns = db.session.scalars(db.select(OrgUnit.name).where(OrgUnit.kind != "district")).all()
        assert len(towns) == 6 and {"青山镇", "溪口镇"} <= set(towns)


def test_the_demo_has_an_open_cycle_due_in_a_week_and_a_closed_one_of_last_year(app):
    from workflow import cycles
    from workflow.cycle_models import Cycle

    runner = app.test_cli_runner()
    with app.app_context():
        db.drop_all()
        db.create_all()
    assert "demo data created" in runner.invoke(args=["seed-demo"]).output
    verified = runner.invoke(args=["verify-audit"])  # the demo's backdated history still chains
    assert verified.exit_code == 0, verified.output
    with app.app_context():
        reviewer = db.session.scalar(db.select(User).where(User.username == "district_reviewer"))
        open_cycle = db.session.scalar(db.select(Cycle).where(Cycle.state == "open"))
        closed_cycle = db.session.scalar(db.select(Cycle).where(Cycle.state == "closed"))
        now = cycles.matrix(reviewer, open_cycle.id)
        assert now.days_left == 7 and now.expected == 6
        assert {r.org_unit_name: r.status for r in now.rows if r.status != "not_started"} == {
            "青山镇": "draft", "溪口镇": "town_review"}
        assert sum(1 for r in now.rows if r.last_reminded_at) == 2
        before = cycles.matrix(reviewer, closed_cycle.id)
        assert before.days_left < 0 and before.cycle.year == now.cycle.year - 1
        assert {r.org_unit_name: (r.status, r.on_time) for r in before.rows if r.status != "not_started"} == {
            "青山镇": ("published", True), "溪口镇": ("returned", True)}
        assert (before.reporting_rate, before.overdue) == (round(1 / 6, 4), 5)
        xk_author = db.session.scalar(db.select(User).where(User.username == "xk_author"))
        from workflow import services

        first = services.inbox(xk_author)[0]
        assert first.cycle_id == closed_cycle.id and cycles.returned_ids([first]) == {first.id}

        # Nobody is told today of last year's closed cycle; this year's cycle is announced.
        from workflow import outbox
        from workflow.notifications import Notification

        outbox.dispatch(outbox.Settings(retry_intervals=(0,)))
        told = db.session.scalars(db.select(Notification)).all()
        assert told and {n.cycle_id for n in told if n.cycle_id} == {open_cycle.id}
        assert not [n.title for n in told if str(closed_cycle.year) in n.title]


def test_org_units_import_from_csv_with_division_codes(app, tmp_path):
    runner = app.test_cli_runner()
    csv_file = tmp_path / "units.csv"
    csv_file.write_text(UNITS_CSV, encoding="utf-8")
    result = runner.invoke(args=["import-org-units", str(csv_file)])
    assert result.exit_code == 0 and "added 3" in result.output
    again = runner.invoke(args=["import-org-units", str(csv_file)])
    assert "added 0, skipped 3" in again.output
    with app.app_context():
        town = db.session.scalar(db.select(OrgUnit).where(OrgUnit.division_code == "330100101000"))
        district = db.session.scalar(db.select(OrgUnit).where(OrgUnit.division_code == "330100000000"))
        assert (town.name, town.parent_id, town.path) == ("溪口镇", district.id, f"/{district.id}/{town.id}/")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,division_code,parent_code\n新镇,town,12345,\n", encoding="utf-8")
    result = runner.invoke(args=["import-org-units", str(bad)])
    assert result.exit_code != 0 and "12" in result.output


def test_create_user_with_a_position(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "qs_clerk", "--name", "青山镇文书", "--password", "long-enough-pw",
                                 "--role", "author", "--unit", str(world["qs"])])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "qs_clerk"))
        assert user.check_password("long-enough-pw") and user.password_hash != "long-enough-pw"
        assert [(p.role, p.org_unit_id) for p in user.positions] == [("author", world["qs"])]
    short = runner.invoke(args=["create-user", "x_clerk", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    wrong_unit = runner.invoke(args=["create-user", "d_author", "--password", "long-enough-pw",
                                     "--role", "author", "--unit", str(world["district"])])
    assert wrong_unit.exit_code != 0  # an author sits at a town, not a district
    with app.app_context():  # and the refused command created nobody
        assert db.session.scalar(db.select(User).where(User.username == "d_author")) is None
