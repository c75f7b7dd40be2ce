"""CLI commands of the PDF layer: development signing keys, the job sweeper, the worker.

- ``flask dev-keys``: a development CA in ``KEYS_DIR/ca`` and a certificate + key per
  district as ``KEYS_DIR/district-<id>.p12`` (idempotent; never for production, where the
  admin installs each district's PKCS#12 issued by a real CA at that same path).
- ``flask archive-renew [--before-days N] [--all]``: a fresh document timestamp on every
  archived PDF (reports and their approval forms) whose last timestamp's TSA certificate
  expires within N days (default 365; ``--all``: every one), stored beside the original
  (``pdf.ltv``, ``pdf.archive``); cron it monthly so the archive stays verifiable for
  decades. Each renewal, each failure and each run is audited as a system action.
- ``flask sweep [--every SECONDS]``: re-enqueue publications whose job was lost (and
  retries RQ's scheduler missed), and run the sweepers other parts register in
  ``app.extensions["chengbao_sweepers"]`` (the outbox); with ``--every`` it keeps sweeping
  (production: a service next to the workers; ``make run`` sweeps in its launcher).
- ``flask worker [--processes N]``: the worker's entry point: an RQ worker (or a pool of
  N) on the queues other parts register (the outbox's ``chengbao-events``) and the
  publication queue, handed this app (``pdf.jobs.set_worker_app``) before it forks its work
  horses; it sweeps once at start and runs RQ's scheduler, which puts retries back on the
  queue when their interval has passed. A scheduler lock left by a killed worker is
  released first (``pdf.queue.release_dead_scheduler_locks``), so the new worker's
  scheduler takes the role at once.
  ``rq worker --with-scheduler -u $REDIS_URL chengbao-events chengbao-pdf`` works too, run
  where the ``flask`` command would find the app (``FLASK_APP``, or ``app.py`` in the working
  directory): the first job of each process builds it that way.
- ``flask backup DIR`` / ``flask restore DIR [--force]``: the instance's database, signed PDFs,
  keys and secret key, with a SHA-256 manifest (``pdf.backup``).
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app

from workflow.publishing import signing_units

from .ltv import ca_directory

log = logging.getLogger(__name__)

def ca_certificate_file(config: Any) -> Path:
    """The development CA's certificate (PEM): ``KEYS_DIR/ca/ca.cert.pem``."""
    from .signing import CA_CERT_FILE

    return ca_directory(config) / CA_CERT_FILE


def ensure_dev_keys(app: Flask | None = None) -> list[str]:
    """Create the development CA if missing, its time-stamp authority's certificate, and a
    PKCS#12 for every signing unit (``workflow.publishing.signing_units``) that has none,
    issued to its issuing name (示范区人民政府: the name on its seal). Towns' keys (the
    first seal of their reports) are issued on demand by the publishing job (``pdf.jobs``).
    Certificates the development CA issued without the CRL distribution point
    ``PUBLIC_BASE_URL/ca/crl`` (made before CRLs existed) are re-issued, the old file
    moved aside; keys from another CA (production) are never touched. Returns the names of
    the districts that got a key. Needs an app context."""
    from . import jobs, ltv, signing
    from .jobs import signing_key_path

    config = (app or current_app).config
    ca_dir = ca_directory(config)
    ca_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the CA's private key is in it
    signing.create_dev_ca(ca_dir)  # idempotent: an existing CA is kept
    ltv.ensure_dev_tsa(config)
    crl_url = ltv.crl_url(config)
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    created = []
    for unit in signing_units():
        target = signing_key_path(config, unit.id)
        # A key from another CA (production) is never touched; one the development CA issued
        # is re-issued when its name (the unit's issuing name) or its CRL address changed.
        if target.exists() and not jobs.issued_by_dev_ca(ca_dir, target, secret):
            continue
        before = target.stat().st_mtime_ns if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        signing.issue_district_certificate(ca_dir, unit.issuing_name_or_default, target, secret, crl_url=crl_url)
        if target.stat().st_mtime_ns != before:
            target.chmod(0o600)
            created.append(f"{unit.issuing_name_or_default} (district-{unit.id}.p12)")
    return created


def sweep_once(*, echo_all: bool) -> bool:
    """One sweep of the PDF jobs and of the sweepers other parts register (the outbox),
    printed as JSON lines (only those that did something unless ``echo_all``). False when
    a queue was unreachable."""
    from .jobs import sweep

    result = sweep()
    others = [other() for other in current_app.extensions.get("chengbao_sweepers", ())]  # e.g. the outbox
    acted = bool(result.requeued or result.overdue or result.scheduler_locks_released or result.orphans_removed)
    if echo_all or acted or result.unavailable:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    for other in others:
        if echo_all or any(v.get("leases_requeued") or v.get("leases_failed") or v.get("unavailable")
                           for v in other.values() if isinstance(v, dict)):
            click.echo(json.dumps(other, ensure_ascii=False, default=str))
    return not (result.unavailable or any(v.get("unavailable") for o in others for v in o.values()
                                          if isinstance(v, dict)))


RENEWED, RENEW_FAILED, RENEW_RUN = "archive_renewed", "archive_renew_failed", "archive_renew_run"


def renew_archive(*, before_days: int | None = None, renew_all: bool = False) -> dict[str, Any]:
    """Renew the document timestamps of the archive's ready publications that need it
    (``pdf.ltv.renewal_need``): the report's PDF and its approval form, each renewed file
    verified before it is stored beside the original. Returns ``{"checked", "renewed",
    "failed", "approval_forms_renewed", "approval_forms_failed"}`` (archive numbers; failures
    logged). Every renewal and every failure is a system action in the admin audit chain
    (``workflow.audit.append_admin`` without an actor: ``archive_renewed``,
    ``archive_renew_failed``), and so is the run itself (``archive_renew_run``, with its
    counts), whether cron or an operator started it."""
    import datetime as dt

    from sqlalchemy import select

    from workflow.audit import append_admin
    from workflow.db import db
    from workflow.models import Publication, PublicationStatus

    from . import archive, ltv, service
    from .publications import without_paths

    config = current_app.config
    before = dt.timedelta(days=ltv.RENEW_BEFORE_DAYS if before_days is None else before_days)
    rows = db.session.execute(
        select(Publication.id, Publication.archive_no, Publication.file_sha256, Publication.approval_sha256,
               Publication.district_id)
        .where(Publication.status == PublicationStatus.READY, Publication.file_sha256.is_not(None))
        .order_by(Publication.id)).all()
    db.session.commit()
    result: dict[str, Any] = {"checked": 0, "renewed": [], "failed": [], "approval_forms_renewed": [],
                              "approval_forms_failed": []}

    def audit(action: str, row: Any, **detail: Any) -> None:
        try:
            append_admin(None, action, f"publication:{row.id}", org_unit_id=row.district_id,
                         archive_no=row.archive_no, by="archive-renew", **detail)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise

    for row in rows:
        result["checked"] += 1
        for document, sha in (("report", row.file_sha256), ("approval_form", row.approval_sha256)):
            if not sha:
                continue
            prefix = "" if document == "report" else "approval_forms_"
            expires = None
            try:
                data = archive.read_current(config["ARCHIVE_DIR"], sha)
                need = ltv.renewal_need(data, before=before)
                expires = need.expires.isoformat() if need.expires else None
                if not renew_all and not need.due:
                    continue
                renewed = ltv.renew(data, config)
                verdict = service.verify_upload(renewed)
                if verdict.status != "valid":
                    raise ValueError(f"the renewed file does not verify ({verdict.detail})")
                path = archive.store_renewal(config["ARCHIVE_DIR"], sha, renewed)
            except Exception as exc:  # one file's failure must not stop the others
                log.error("archive-renew: publication %s (%s) %s not renewed: %s", row.id, row.archive_no,
                          document, exc)
                result[prefix + "failed"].append(row.archive_no)
                audit(RENEW_FAILED, row, document=document, sha256=sha, expires=expires,
                      error=without_paths(f"{type(exc).__name__}: {exc}")[:300])
                continue
            result[prefix + "renewed"].append(row.archive_no)
            audit(RENEWED, row, document=document, sha256=sha, file=path.name, expires=expires)
    append_admin(None, RENEW_RUN, "archive", by="archive-renew", all=renew_all, before_days=before.days,
                 checked=result["checked"], renewed=len(result["renewed"]) + len(result["approval_forms_renewed"]),
                 failed=len(result["failed"]) + len(result["approval_forms_failed"]))
    db.session.commit()
    return result


def register_cli(app: Flask) -> None:
    @app.cli.command("dev-keys")
    def dev_keys() -> None:
        """Development only: a local CA and a signing certificate per district (idempotent)."""
        created = ensure_dev_keys()
        for name in created:
            click.echo(f"created signing key for {name}")
        click.echo(f"{len(created)} key(s) created; CA certificate: {ca_certificate_file(current_app.config)}")
        click.echo("These are development keys: in production install each district's PKCS#12 "
                   "as KEYS_DIR/district-<id>.p12.", err=True)

    @app.cli.command("archive-renew")
    @click.option("--before-days", default=None, type=click.IntRange(0, 36500),
                  help="Renew when the last timestamp's certificate expires within this many days (default 365).")
    @click.option("--all", "renew_all", is_flag=True, help="Renew every archived PDF (testing, or a TSA change).")
    def archive_renew_command(before_days: int | None, renew_all: bool) -> None:
        """Add a fresh document timestamp to archived PDFs whose last timestamp nears expiry."""
        result = renew_archive(before_days=before_days, renew_all=renew_all)
        click.echo(json.dumps(result, ensure_ascii=False))
        if result["failed"] or result["approval_forms_failed"]:
            raise SystemExit(1)

    @app.cli.command("sweep")
    @click.option("--every", type=click.FloatRange(min=0.5), default=None,
                  help="Keep sweeping, every this many seconds (default: once). SWEEP_INTERVAL is the usual value.")
    def sweep_command(every: float | None) -> None:
        """Re-enqueue published reports whose PDF job was lost; remove orphan archive files."""
        if every is None:
            if not sweep_once(echo_all=True):
                raise SystemExit(1)
            return
        click.echo(f"sweeping every {every:g} s; Ctrl-C stops")
        while True:
            sweep_once(echo_all=False)
            time.sleep(every)

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(directory: Path) -> None:
        """Copy the database, the signed PDFs, the keys and the secret key into DIRECTORY (new)."""
        from .backup import BackupError, backup

        try:
            summary = backup(current_app.config, directory)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))

    @app.cli.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace the data this instance already holds.")
    def restore_command(directory: Path, force: bool) -> None:
        """Put a backup made by `flask backup` back, after checking it against its manifest."""
        import os

        from .backup import SECRET_FILE, BackupError, restore

        try:
            summary = restore(current_app.config, directory, force=force)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        if os.environ.get("SECRET_KEY") and os.environ["SECRET_KEY"] != (directory / SECRET_FILE).read_text():
            click.echo(f"SECRET_KEY is set in the environment and differs from the backup's: set it to the "
                       f"value in {directory / SECRET_FILE} to keep sessions and API tokens valid.", err=True)
        click.echo("Next: flask db upgrade (an older backup's schema), then flask verify-audit.", err=True)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--sweep/--no-sweep", "sweep_first", default=True, help="Sweep lost jobs at start.")
    @click.option("--name", default=None, help="Worker name (default: host and pid).")
    @click.option("--scheduler/--no-scheduler", default=True,
                  help="Run RQ's scheduler (moves retries whose interval has passed back to the queue).")
    @click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
                  help="Worker processes (more than one: an RQ worker pool that respawns dead workers).")
    def worker_command(burst: bool, sweep_first: bool, name: str | None, scheduler: bool, processes: int) -> None:
        """Run an RQ worker for the signed-PDF jobs with this app's configuration."""
        from rq.worker_pool import WorkerPool

        from . import jobs
        from .queue import KeptHorseWorker, get_redis, release_dead_scheduler_locks

        app_obj: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        connection = get_redis(app_obj)
        connection.ping()
        jobs.set_worker_app(app_obj)
        jobs.warm_up(app_obj.config)
        if sweep_first:
            result = jobs.sweep()
            click.echo(f"sweep at start: {json.dumps(result.as_dict(), ensure_ascii=False)}")
            for other in app_obj.extensions.get("chengbao_sweepers", ()):  # e.g. the outbox
                click.echo(f"sweep at start: {json.dumps(other(), ensure_ascii=False, default=str)}")
        # Work horses are forked from this process: hold no database connection in it.
        from workflow.db import db

        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
        # What warm_up loaded stays for the life of the process: out of the collector's
        # sight, a work horse's collections neither walk it nor copy its pages.
        import gc

        gc.collect()
        gc.freeze()
        # Queues other parts register (the outbox's events) come first: they are quick.
        queues = jobs.worker_queues(app_obj, connection)
        if scheduler:
            for name in release_dead_scheduler_locks(queues):
                click.echo(f"released the scheduler lock of queue {name}: its scheduler is dead")
        if processes > 1:
            # Forked pool workers inherit the app set above (and its preloaded fonts and keys).
            WorkerPool(queues, connection=connection, num_workers=processes,
                       worker_class=KeptHorseWorker).start(burst=burst, logging_level="INFO")
            return
        # Maintenance every minute (RQ: ten): it starts the scheduler again should its process
        # die, or once another's lock is released or has expired.
        # A work horse per worker, kept from job to job (KeptHorseWorker): jobs run as fast
        # as in a warm process, and a killed horse is handled as RQ handles it.
        worker = KeptHorseWorker(queues, connection=connection, name=name, maintenance_interval=60)
        worker.max_connection_wait_time = 2.0  # back on a restarted Redis within seconds (RQ: up to 60 s)
        worker.work(burst=burst, with_scheduler=scheduler, logging_level="INFO")
