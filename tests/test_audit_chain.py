"""The tamper-evident audit log: every way of covering one's tracks in the database is
reported by ``flask verify-audit`` (exit 1, naming the ids), the global chain stays one line
under concurrent appends, and the signed checkpoints outside the database catch a rewrite
whose hashes were all recomputed with the application's own functions."""
from __future__ import annotations

import json
import stat
import threading

import pytest

from pdf.checkpoints import checkpoint_dir, checkpoint_files, checkpoint_sweeper, write_checkpoint
from pdf.cli import ensure_dev_keys
from tests.helpers import act, advance, gen_report, get_user
from workflow import admin, audit, services
from workflow.db import db
from workflow.models import AdminAudit, AuditChainHead, AuditEvent, Report


def verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["verify-audit"])
    print(result.output)  # the report shows what the command says in each case
    return result.exit_code, result.output


@pytest.fixture
def history(app, world):
    """Three reports with some history (ids in order), and the district keys for checkpoints."""
    with app.app_context():
        ensure_dev_keys(app)
        first = advance(gen_report("qs").id, "district_review").id
        second = advance(gen_report("xk", title="溪口镇计划").id, "town_review", town="xk").id
        third = advance(gen_report("qs", title="青山镇第二份").id, "town_review").id
    return first, second, third


def _events(report_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.report_id == report_id)
                                   .order_by(AuditEvent.seq)))


def test_an_untouched_log_verifies(app, history):
    code, output = verify(app)
    assert code == 0 and "0 problem(s)" in output
    with app.app_context():
        seqs = db.session.scalars(db.select(AuditEvent.global_seq).order_by(AuditEvent.global_seq)).all()
        assert seqs == list(range(1, len(seqs) + 1))
        head = db.session.get(AuditChainHead, audit.GLOBAL_CHAIN)
        assert head.seq == len(seqs)


def test_deleting_a_reports_last_event_is_reported_by_global_seq_and_by_state(app, history):
    first, _, _ = history
    with app.app_context():
        last = _events(first)[-1]
        gone_id, gone_seq = last.id, last.global_seq
        db.session.delete(last)
        db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert f"global event seq {gone_seq} missing (between id {gone_id - 1} and id {gone_id + 1}): deleted" in output
    assert f"report {first} event 0: state is district_review but its last event (seq 2" in output


def test_deleting_the_very_last_event_of_the_system_is_seen_at_the_head(app, history):
    _, _, third = history
    with app.app_context():
        last = _events(third)[-1]
        db.session.delete(last)
        db.session.commit()
        seq = last.global_seq
    code, output = verify(app)
    assert code == 1
    assert f"global event head: the head is at seq {seq} but the last link is seq {seq - 1}" in output
    assert f"report {third} event 0: state is town_review but its last event" in output


def test_deleting_every_event_of_a_report_is_reported(app, history):
    _, second, _ = history
    with app.app_context():
        seqs = [e.global_seq for e in _events(second)]
        db.session.execute(db.delete(AuditEvent).where(AuditEvent.report_id == second))
        db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert f"report {second} event 0: has no audit event: its history was deleted" in output
    assert f"global event seq {seqs[0]}–{seqs[-1]} missing" in output


def test_editing_an_event_is_reported_by_id(app, history):
    first, _, _ = history
    with app.app_context():
        event = _events(first)[1]
        event.comment = "后来改写的意见"
        db.session.commit()
        event_id, global_seq = event.id, event.global_seq
    code, output = verify(app)
    assert code == 1
    assert f"report {first} event 2: hash does not match the event's content (event id {event_id})" in output
    assert f"global event id {event_id} (seq {global_seq}): hash does not match its content: rewritten" in output


def _rewrite_and_recompute(report_id: int) -> AuditEvent:
    """What an attacker with the database and the source does: rewrite an event, then recompute
    the report's chain and the global chain with the application's own hash functions."""
    events = _events(report_id)
    events[1].comment = "同意（改写）"
    previous = audit.GENESIS
    for e in events:
        e.prev_hash = previous
        e.hash = previous = audit.event_hash(e)
    audit.rechain_global()
    db.session.commit()
    return events[1]


def test_a_rewrite_recomputed_with_the_apps_hash_passes_the_chains_but_not_the_signed_checkpoint(app, history):
    first, _, _ = history
    written = app.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert written.exit_code == 0, written.output
    assert "checkpoint-000001.json (admin_audit seq 9 " in written.output and "audit_event seq 7 " in written.output
    path = checkpoint_files(checkpoint_dir(app.config))[-1][1]
    signed = json.loads(path.read_bytes())["chains"][audit.GLOBAL_CHAIN]
    with app.app_context():
        _rewrite_and_recompute(first)
        assert audit.verify_all().problems == []  # the database alone cannot tell
    code, output = verify(app)
    assert code == 1
    assert (f"checkpoint {path.name}: global event seq {signed['seq']} now hashes to") in output
    assert "the chain up to it was rewritten" in output


def test_setting_the_state_directly_is_reported(app, history):
    first, _, _ = history
    with app.app_context():
        db.session.execute(db.update(Report).where(Report.id == first).values(state="published"))
        db.session.commit()
    code, output = verify(app)
    assert code == 1
    assert f"report {first} event 0: state is published but its last event (seq 3" in output
    assert "led to district_review" in output


def test_deleting_or_editing_an_admin_audit_row_is_reported(app, history):
    with app.app_context():
        admin.grant_position(get_user("admin"), user_id=get_user("nobody").id, org_unit_id=get_user("qs_author")
                             .positions[0].org_unit_id, role="author")
        rows = db.session.scalars(db.select(AdminAudit).order_by(AdminAudit.seq)).all()
        assert rows[-1].action == "position_granted" and rows[-1].actor_id == get_user("admin").id
        middle, last_seq = rows[3], rows[-1].seq
        middle_id, middle_seq = middle.id, middle.seq
        db.session.delete(middle)
        edited = rows[5]
        edited.detail = {**edited.detail, "role": "admin"}
        db.session.commit()
        edited_id, edited_seq = edited.id, edited.seq
    code, output = verify(app)
    assert code == 1
    assert f"admin audit seq {middle_seq} missing (between id {middle_id - 1} and id {middle_id + 1})" in output
    assert f"admin audit id {edited_id} (seq {edited_seq}): hash does not match its content: rewritten" in output
    with app.app_context():  # and the newest row deleted: the head says so
        db.session.execute(db.delete(AdminAudit).where(AdminAudit.seq == last_seq))
        db.session.commit()
    code, output = verify(app)
    assert f"admin audit head: the head is at seq {last_seq} but the last link is seq {last_seq - 1}" in output


def test_checkpoints_are_private_files_chained_and_signed(app, history):
    first, _, _ = history
    with app.app_context():
        one = write_checkpoint(app.config)
        sweep = checkpoint_sweeper(app.config)
        assert sweep() == {"audit_checkpoint": {"written": None}}  # nothing moved since
        act(first, "district_reviewer", "approve")
        assert sweep() == {"audit_checkpoint": {"written": "checkpoint-000002.json"}}
        two = write_checkpoint(app.config)
    directory = checkpoint_dir(app.config)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.glob("checkpoint-*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    body = json.loads(two.read_bytes())
    assert body["number"] == 3 and body["previous"]["number"] == 2
    assert body["counts"]["audit_event"] == body["chains"][audit.GLOBAL_CHAIN]["seq"]
    assert "BEGIN CERTIFICATE" in body["signer"]["certificate"]
    code, output = verify(app)
    assert code == 0 and "3 checkpoint(s): 0 problem(s)" in output
    # A checkpoint edited (its signature no longer holds), one deleted (the numbers skip).
    one.write_bytes(one.read_bytes().replace(b'"number": 1', b'"number": 7'))
    (directory / "checkpoint-000002.json").unlink()
    code, output = verify(app)
    assert code == 1
    assert "checkpoint checkpoint-000001.json: the signature does not match the file: altered" in output
    assert "checkpoint checkpoint-000003.json: checkpoint 2 missing before it (deleted)" in output
    assert [n for n, _ in checkpoint_files(directory)] == [1, 3]


def test_a_checkpoint_needs_a_district_key(app, world):
    result = app.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1 and "no district signing key: run `flask dev-keys`" in result.output
    with app.app_context():
        assert "skipped" in checkpoint_sweeper(app.config)()["audit_checkpoint"]
    assert checkpoint_files(checkpoint_dir(app.config)) == []


def test_concurrent_appends_to_different_reports_make_one_global_line(app, world):
    with app.app_context():
        ids = [advance(gen_report("qs", title=f"计划{i}").id, "town_review").id for i in range(8)]
    barrier = threading.Barrier(len(ids))
    errors: list[str] = []

    def approve(report_id: int) -> None:
        with app.app_context():
            reviewer = get_user("qs_reviewer")
            version = db.session.get(Report, report_id).version
            barrier.wait()
            try:
                services.perform(reviewer, report_id, "approve", version=version)
            except Exception as exc:  # any failure is a bug here
                errors.append(repr(exc))

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        checked, problems = audit.verify_global()
        assert problems == [] and checked == 8 * 3
        seqs = db.session.scalars(db.select(AuditEvent.global_seq).order_by(AuditEvent.global_seq)).all()
        assert seqs == list(range(1, 25))


def test_the_published_pdf_prints_the_head_of_its_reports_chain(app, world):
    from pdf import jobs
    from tests.jobs_support import serving_tsa
    from tests.pdf_helpers import poppler
    from workflow.models import Publication

    with serving_tsa(app), app.app_context():  # the signature's timestamp comes from the app's TSA
        ensure_dev_keys(app)
        report = advance(gen_report("qs").id, "published")
        publication = db.session.scalar(db.select(Publication).where(Publication.report_id == report.id))
        jobs.publish(publication.id)
        head = _events(report.id)[-1].hash
        db.session.refresh(publication)
        from pdf.archive import path_for

        pdf_path = path_for(app.config["ARCHIVE_DIR"], publication.file_sha256)
    text = poppler("pdftotext", "-layout", pdf_path, "-")
    assert f"审计链 {head[:16]}" in text


def test_the_migration_links_existing_history_into_the_chains(tmp_path):
    """A database of before the chains: its events and admin audit rows are linked in id order,
    each report's editors start as its creator, and verify-audit finds nothing wrong."""
    import datetime as dt
    from types import SimpleNamespace

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
                      "INSTANCE_DIR": str(tmp_path), "KEYS_DIR": str(tmp_path / "keys"), "SECRET_KEY": "x"})
    now = dt.datetime(2026, 1, 5, 8, 30)
    with app.app_context():
        upgrade(revision="0005_report_view")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO user (id, username, display_name, password_hash, active, created_at, "
                              "email_notifications) VALUES (1, 'a', 'a', 'x', 1, :now, 1)"), {"now": now})
            conn.execute(text("INSERT INTO org_unit (id, name, kind, path) VALUES (1, '青山镇', 'town', '/1/')"))
            for rid in (1, 2):
                conn.execute(text("INSERT INTO report (id, org_unit_id, kind, year, title, state, version, "
                                  "content_number, created_by_id, created_at, updated_at) VALUES "
                                  "(:id, 1, 'annual_plan', 2027, 't', 'town_review', 2, 1, 1, :now, :now)"),
                             {"id": rid, "now": now})
            previous = {1: audit.GENESIS, 2: audit.GENESIS}
            for eid, rid, seq, action, to_state in ((1, 1, 1, "create", "draft"), (2, 2, 1, "create", "draft"),
                                                    (3, 1, 2, "submit", "town_review"),
                                                    (4, 2, 2, "submit", "town_review")):
                event = SimpleNamespace(report_id=rid, seq=seq, actor_id=1, action=action, from_state=None,
                                        to_state=to_state, version_number=1, content_sha256="c" * 64, comment=None,
                                        created_at=now, prev_hash=previous[rid])
                previous[rid] = audit.event_hash(event)
                conn.execute(text("INSERT INTO audit_event (id, report_id, seq, actor_id, action, to_state, "
                                  "version_number, content_sha256, created_at, prev_hash, hash) VALUES (:id, :rid, "
                                  ":seq, 1, :action, :to_state, 1, :sha, :now, :prev, :hash)"),
                             {"id": eid, "rid": rid, "seq": seq, "action": action, "to_state": to_state,
                              "sha": "c" * 64, "now": now, "prev": event.prev_hash, "hash": previous[rid]})
            conn.execute(text("INSERT INTO admin_audit (actor_id, action, target, detail, created_at) VALUES "
                              "(1, 'channel_added', 'channel:1', '{\"kind\": \"webhook\"}', :now)"), {"now": now})
        upgrade()
        verdict = audit.verify_all()
        assert verdict.problems == [] and (verdict.events, verdict.admin_rows) == (4, 1)
        assert db.session.scalars(db.select(AuditEvent.global_seq).order_by(AuditEvent.id)).all() == [1, 2, 3, 4]
        assert db.session.get(Report, 2).editor_ids == [1]
        assert db.session.get(AuditChainHead, audit.GLOBAL_CHAIN).seq == 4
        db.session.remove()
        db.engine.dispose()
