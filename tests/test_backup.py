"""``flask backup`` and ``flask restore``: the demo data with signed PDFs, backed up, the
instance wiped, restored: every report back, the audit chains whole, every archived PDF
verifying. A damaged backup and a non-empty instance are refused; the backup and the
instance are private to their owner (files 0600, directories 0700). SQLite by default,
PostgreSQL (pg_dump/pg_restore) when DATABASE_URL is set."""
from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from config import sqlite_path
from pdf import archive, jobs
from pdf import service as pdf_service
from pdf.cli import ensure_dev_keys
from tests.jobs_support import jobs_app, redis_url, run_worker  # noqa: F401
from workflow.db import db
from workflow.models import Publication, Report, ReportVersion

pytestmark = pytest.mark.jobs


def _modes(root: Path) -> dict[str, set[str]]:
    """The permission bits found below ``root``: {"files": {...}, "dirs": {...}}."""
    found: dict[str, set[str]] = {"files": set(), "dirs": {oct(stat.S_IMODE(root.stat().st_mode))}}
    for path in root.rglob("*"):
        found["dirs" if path.is_dir() else "files"].add(oct(stat.S_IMODE(path.stat().st_mode)))
    return found


def _snapshot(app) -> dict:
    with app.app_context():
        reports = db.session.execute(
            select(Report.id, Report.state, Report.title, Report.version, ReportVersion.content_sha256)
            .join(ReportVersion, (ReportVersion.report_id == Report.id)
                  & (ReportVersion.number == Report.content_number))
            .order_by(Report.id)).all()
        pubs = db.session.execute(select(Publication.id, Publication.status, Publication.archive_no,
                                         Publication.file_sha256).order_by(Publication.id)).all()
        return {"reports": [tuple(r) for r in reports], "publications": [tuple(p) for p in pubs]}


def _wipe(app) -> None:
    """The instance is lost: database, archive, keys and secret key."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
        if database is None:
            db.drop_all()
            db.engine.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
    for key in ("ARCHIVE_DIR", "KEYS_DIR"):
        shutil.rmtree(app.config[key])
    (Path(app.config["INSTANCE_DIR"]) / "secret_key").unlink(missing_ok=True)
    shutil.rmtree(Path(app.config["INSTANCE_DIR"]) / "checkpoints")


def test_backup_wipe_restore_gives_back_every_report_and_verifiable_pdf(jobs_app, tmp_path_factory):
    app = jobs_app
    runner = app.test_cli_runner()
    with app.app_context():
        db.drop_all()
        db.create_all()
    assert "demo data created" in runner.invoke(args=["seed-demo"]).output
    with app.app_context():
        ensure_dev_keys(app)
        assert jobs.sweep().requeued  # the demo's published reports: their PDFs
    run_worker(app)
    before = _snapshot(app)
    ready = [p for p in before["publications"] if p[1] == "ready"]
    assert ready and len(ready) == len(before["publications"]) and len(before["reports"]) >= 5

    # The instance itself is private: the database file 0600, its directories 0700.
    database = sqlite_path(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        assert oct(stat.S_IMODE(database.stat().st_mode)) == "0o600"
    for key in ("ARCHIVE_DIR", "KEYS_DIR"):
        assert _modes(Path(app.config[key]))["dirs"] == {"0o700"}, key

    # A file another part keeps in the instance comes along; the queue's Redis files do not.
    instance = Path(app.config["INSTANCE_DIR"])
    (instance / "checkpoints").mkdir()
    (instance / "checkpoints" / "head.json").write_text('{"head": "abc"}')
    (instance / "redis").mkdir()
    (instance / "redis" / "queue.aof").write_text("*1\r\n$4\r\nPING\r\n")

    target = tmp_path_factory.mktemp("b") / "backup-1"
    made = runner.invoke(args=["backup", str(target)])
    assert made.exit_code == 0, made.output
    manifest = json.loads((target / "manifest.json").read_text())
    assert _modes(target) == {"files": {"0o600"}, "dirs": {"0o700"}}
    assert {f"archive/{sha[:2]}/{sha}.pdf" for *_, sha in ready} <= set(manifest["files"])
    assert "secret_key" in manifest["files"] and any(n.startswith("keys/") for n in manifest["files"])
    assert "instance/checkpoints/head.json" in manifest["files"]
    assert not [n for n in manifest["files"] if "redis" in n or ("sqlite3" in n and n != "database.sqlite3")]
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0  # never over a backup

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "--force" in refused.output  # the instance holds data

    damaged = tmp_path_factory.mktemp("b") / "damaged"
    shutil.copytree(target, damaged)
    victim = damaged / next(n for n in manifest["files"] if n.endswith(".pdf"))
    victim.chmod(0o600)
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    broken = runner.invoke(args=["restore", "--force", str(damaged)])
    assert broken.exit_code != 0 and "SHA-256 differs" in broken.output

    _wipe(app)
    restored = runner.invoke(args=["restore", str(target)])
    assert restored.exit_code == 0, restored.output

    assert _snapshot(app) == before
    audit = runner.invoke(args=["verify-audit"])
    assert audit.exit_code == 0 and "0 problem(s)" in audit.output, audit.output
    assert (Path(app.config["INSTANCE_DIR"]) / "secret_key").read_text() == app.config["SECRET_KEY"]
    assert (instance / "checkpoints" / "head.json").read_text() == '{"head": "abc"}'
    with app.app_context():
        for _, _, archive_no, sha in ready:
            data = archive.read(app.config["ARCHIVE_DIR"], sha)
            verdict = pdf_service.verify_upload(data)
            assert verdict.valid and verdict.archive_no == archive_no, verdict
    if database is not None:
        assert oct(stat.S_IMODE(database.stat().st_mode)) == "0o600"
    assert _modes(Path(app.config["KEYS_DIR"]))["dirs"] == {"0o700"}
    assert _modes(Path(app.config["ARCHIVE_DIR"])) == {"files": {"0o400"}, "dirs": {"0o700"}}
