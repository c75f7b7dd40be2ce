"""The RQ jobs that publish approved versions as signed, archived PDFs.

The ``Publication`` row is the source of truth for a job's status, stage and progress;
RQ only carries the work. The pieces:

- :func:`enqueue_publication` — called once an approval has committed. One job per
  approved version, with the id ``publish-r<report>-v<version>``: a second call while
  that job is queued, scheduled or running adds nothing. Without a reachable Redis it
  logs and returns; the row stays ``queued`` for the sweeper.
- :func:`publish` — the job: checks the version's content hash against the one the
  approval is bound to, allocates the archive number and the town's 发文字号 once, renders
  the town's 上行文 (10→40), signs it with the town's key and then the district's (→70),
  archives the file and marks the row ready (→100). It raises
  on any failure so that RQ retries it (``Retry(max=3, interval=[5, 30, 120])``).
- :func:`on_publish_failure` — the ``on_failure`` callback: records the error (as a
  message key and params, see :class:`pdf.publications.StoredError`); the row turns
  ``failed`` only when RQ has no retry left (RQ runs this callback on *every*
  failed attempt, before it decides to retry, with ``job.retries_left`` not yet
  decremented; RQ also runs it for a job abandoned by a dead worker).
- :func:`sweep` — the guarantee behind both, run every few seconds (``SWEEP_INTERVAL``):
  enqueues retries that RQ's scheduler missed, re-enqueues queued/running publications
  whose job is gone from Redis, finished without a result, or "started" by an attempt
  whose heartbeat stopped (its worker died), and removes orphan files.

While an attempt runs, a thread of the process running it beats on the row (its
``updated_at``) every ``PDF_HEARTBEAT_SECONDS``: a running row whose heartbeat is older
than ``PDF_STALE_AFTER`` has lost its process, whatever Redis says. That one rule drives
both the sweeper and the status the page and the API show (:func:`pdf_status`).

The row itself is written by :mod:`pdf.publications` only. A job finds its Flask
application as described in :func:`set_worker_app`.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import LockError, RedisError
from rq import Callback, Queue, Retry, get_current_job
from rq.exceptions import AbandonedJobError, DuplicateJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import Row, select

from workflow.audit import report_head
from workflow.content import content_sha256
from workflow.db import db
from workflow.errors import Conflict, Invalid, NotFound
from workflow.models import OrgUnit, Publication, PublicationStage, PublicationStatus, Report, ReportVersion, utcnow

from . import archive, publications
from .fonts import FontConfig, load_fonts
from .publications import PdfStatus, StoredError
from .queue import QueueUnavailable, enqueue_overdue, get_queue, get_redis, release_dead_scheduler_locks

# Rendering and signing (ReportLab, pyHanko: ≈1 s and 30 MB to import) are imported inside
# the functions that run in workers: the web processes import this module only to enqueue.

log = logging.getLogger(__name__)

RETRY_MAX = 3
RETRY_INTERVALS = (5, 30, 120)
JOB_TIMEOUT = 600  # seconds; a 40-page plan renders and signs in a few seconds
TIMEZONE = "Asia/Shanghai"
HEARTBEAT_SECONDS = 2.0  # a running attempt beats on its row this often
STALE_BEATS = 5  # heartbeats missed before the attempt is presumed dead (10 s by default)

ACTIVE = {JobStatus.CREATED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED,
          JobStatus.RATE_LIMITED, JobStatus.READY_TO_ENQUEUE}

# Only the kill tests' worker subprocesses set this: it makes the first attempt's rendering
# stage slow enough to be killed mid-job deterministically.
_TEST_RENDER_DELAY_ENV = "CHENGBAO_TEST_RENDER_DELAY"


class SigningKeyMissing(Invalid):
    """The signing district has no key installed: an administrator installs its PKCS#12
    as ``file`` in the keys directory (development: ``flask dev-keys``), then retries."""

    def __init__(self, district: OrgUnit, path: Path) -> None:
        super().__init__("signing_key_missing", district=district.name, district_id=district.id, file=path.name)


class TownSigningKeyMissing(Invalid):
    """The town has no key for its seal on the 上行文 and this site has no development CA to
    issue one: an administrator installs the town's PKCS#12 as ``file``, then retries."""

    def __init__(self, town: OrgUnit, path: Path) -> None:
        super().__init__("town_signing_key_missing", town=town.name, town_id=town.id, file=path.name)


class ContentMismatch(Conflict):
    """The version's content is not what the approval is bound to: never printed."""

    def __init__(self, report_id: int, version: int, approved_sha256: str) -> None:
        super().__init__("content_mismatch", report_id=report_id, version=version, approved=approved_sha256[:12])


# Retrying cannot mend these: the key must be installed (then an admin retries), and content
# that differs from what was approved must never be printed.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (SigningKeyMissing, TownSigningKeyMissing, ContentMismatch)

# The signature fields: the town's certifying signature over its seal, the district's
# approval signature over the district's (pdf.verify accepts exactly this pair).
TOWN_FIELD = "ChengbaoSeal"
DISTRICT_FIELD = "ChengbaoApproval"


def job_id_for(report_id: int, version_number: int) -> str:
    return f"publish-r{report_id}-v{version_number}"


def signing_key_path(config: Any, district_id: int) -> Path:
    """Where a district's PKCS#12 (key + certificate) lives: ``KEYS_DIR/district-<id>.p12``."""
    return Path(config["KEYS_DIR"]) / f"district-{district_id}.p12"


def town_key_path(config: Any, town_id: int) -> Path:
    """Where a town's PKCS#12 (the key of its seal on the 上行文) lives: ``KEYS_DIR/town-<id>.p12``."""
    return Path(config["KEYS_DIR"]) / f"town-{town_id}.p12"


# ---------------------------------------------------------------- the app inside a worker

_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()
_engine_pids: dict[int, int] = {}  # id(app) -> the pid whose connections its pool holds


def set_worker_app(app: Flask) -> None:
    """Use ``app`` for the jobs run by this process and the work horses it forks: the
    worker's entry point (``flask worker``, the tests) creates the app and hands it over.
    A process that got none (``rq worker``) finds it as the ``flask`` command does, see
    :func:`_app_from_environment`."""
    global _worker_app
    _worker_app = app
    _engine_pids[id(app)] = os.getpid()


def _drop_inherited_connections(app: Flask) -> None:
    """RQ forks a work horse per job, and the horse inherits the parent's connection pool:
    a database connection must never be shared across a fork, so the horse forgets the
    inherited ones (without closing them under the parent's feet) before its first query."""
    pid = os.getpid()
    owner = _engine_pids.get(id(app))
    if owner is not None and owner != pid:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
    _engine_pids[id(app)] = pid


def _job_app() -> Flask:
    """The app a job runs in: the current one, the one set by :func:`set_worker_app`, or
    one found from the environment once per process."""
    global _worker_app
    with _worker_app_lock:
        if has_app_context():
            app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        else:
            if _worker_app is None:
                _worker_app = _app_from_environment()
            app = _worker_app
        _drop_inherited_connections(app)
        return app


def _app_from_environment() -> Flask:
    """The application of a worker started without one (``rq worker …``), found the way
    the ``flask`` command finds it: ``FLASK_APP`` (``module`` or ``module:factory()``),
    else ``wsgi.py`` or ``app.py`` in the working directory, whose ``create_app`` is called."""
    from flask.cli import ScriptInfo

    return ScriptInfo(app_import_path=os.environ.get("FLASK_APP"), set_debug_flag=False).load_app()


# ---------------------------------------------------------------- enqueueing


def _retry(config: Any) -> Retry:
    intervals = config.get("PDF_RETRY_INTERVALS", RETRY_INTERVALS)
    return Retry(max=int(config.get("PDF_RETRY_MAX", RETRY_MAX)), interval=list(intervals))


def _job_timeout(config: Any) -> int:
    return int(config.get("PDF_JOB_TIMEOUT", JOB_TIMEOUT))


def worker_queues(app: Flask, connection: Redis) -> list[Queue]:
    """The queues a worker serves: those other parts register (the outbox's events,
    quick, first) and the publication queue."""
    return ([make(app, connection) for make in app.extensions.get("chengbao_worker_queues", ())]
            + [get_queue(app, connection)])


def enqueue_publication(publication_id: int, *, stale_before: dt.datetime | None = None) -> str | None:
    """Queue the publishing job of a publication; returns the job id, or None when the
    publication is already ready or no Redis is reachable (logged: the sweeper retries).

    At most one job per approved version: while a job with that id is queued, scheduled
    or running, nothing is added. A finished or failed job with that id is replaced. A
    *started* job is replaced only when ``stale_before`` is given and the row, re-read
    under the lock, is running with no heartbeat since then (the sweeper: its worker died;
    a row still queued under a started job is an attempt about to mark itself running). A Redis lock
    makes check-and-enqueue atomic across processes, and RQ's ``unique=True`` refuses a
    second job with the same id in any case."""
    app = current_app
    row = _row_for_enqueue(publication_id)
    if row is None:
        raise NotFound("publication_id", publication_id=publication_id)
    if row.status == PublicationStatus.READY:
        return None
    job_id = job_id_for(row.report_id, row.number)
    try:
        connection = get_redis(app)
        queue = get_queue(app, connection)
        with connection.lock(f"chengbao:enqueue:{job_id}", timeout=30, blocking_timeout=10):
            job = queue.fetch_job(job_id)
            if job is not None:
                status = job.get_status(refresh=False)
                if status in ACTIVE:
                    if status != JobStatus.STARTED or stale_before is None:
                        return job_id
                    fresh = _row_for_enqueue(publication_id)
                    if (fresh is None or fresh.status != PublicationStatus.RUNNING
                            or fresh.updated_at >= stale_before):
                        return job_id
                    log.warning("publication %s: replacing job %s, whose worker is presumed dead", publication_id,
                                job_id)
                job.delete()
            queue.enqueue(
                publish, publication_id,
                job_id=job_id, unique=True,
                retry=_retry(app.config),
                on_failure=Callback(on_publish_failure),
                job_timeout=_job_timeout(app.config),
                description=f"publish report {row.report_id} version {row.number}",
            )
    except DuplicateJobError:
        return job_id
    except QueueUnavailable as exc:
        log.warning("publication %s stays queued for the sweeper: %s", publication_id, exc)
        return None
    except (RedisError, LockError, OSError) as exc:
        log.warning("publication %s stays queued for the sweeper: Redis unreachable (%s)", publication_id, exc)
        return None
    log.info("publication %s: job %s queued", publication_id, job_id)
    return job_id


def _row_for_enqueue(publication_id: int) -> Row[str, dt.datetime, int, int] | None:
    return db.session.execute(
        select(Publication.status, Publication.updated_at, Publication.report_id, ReportVersion.number)
        .join(ReportVersion, ReportVersion.id == Publication.report_version_id)
        .where(Publication.id == publication_id)
    ).one_or_none()


def retry_publication(publication_id: int) -> str | None:
    """An admin's retry of a failed publication: back to queued, then enqueued.

    Conditional on the row being failed, so two clicks make one retry (the second raises
    ``Conflict("publication_not_failed")``). Returns the job id (None when Redis is
    unreachable: the row is queued and the sweeper will hand it over). Who may retry is
    ``workflow.publishing.may_retry_publication``'s to say (see ``pdf.service``)."""
    if not publications.reset_for_retry(publication_id):
        raise Conflict("publication_not_failed")
    return enqueue_publication(publication_id)


# ---------------------------------------------------------------- the job


def publish(publication_id: int) -> dict[str, Any]:
    """RQ job: make, sign and archive the PDF of one publication (idempotent)."""
    app = _job_app()
    with _Heartbeat(app, publication_id), app.app_context():
        summary = _publish(publication_id)
        # The signed approval form (审批单), once the report's PDF is archived; a retry after
        # a failure here finds the publication ready and makes only the form (once).
        from .approval_form import ensure_approval_form

        ensure_approval_form(publication_id, form_signing(app.config))
        return summary


def form_signing(config: Any) -> Any:
    """What the approval form (``pdf.approval_form``) is signed and dated with: this
    module's signer, verification address and time zone."""
    from .approval_form import FormSigning

    return FormSigning(load_signer=lambda district: _load_signer(config, district),
                       verify_url=lambda archive_no: verify_url(config, archive_no),
                       timezone=config.get("TIMEZONE", TIMEZONE))


def heartbeat_seconds(config: Any) -> float:
    return float(config.get("PDF_HEARTBEAT_SECONDS") or HEARTBEAT_SECONDS)


class _Heartbeat:
    """A thread that beats on the running row every ``PDF_HEARTBEAT_SECONDS`` while the job
    runs (rendering a long plan is one call that cannot beat by itself). It stops with
    the job, and dies with its process: a killed worker or work horse stops beating, and
    the row's silence is what tells the sweeper and the status page the attempt is dead."""

    def __init__(self, app: Flask, publication_id: int) -> None:
        self.app, self.publication_id = app, publication_id
        self.every = heartbeat_seconds(app.config)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{publication_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(self.every + 35)  # a beat may wait for the database's busy timeout

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.app.app_context():
                    publications.beat(self.publication_id)
            except Exception:  # a missed beat is not a failure of the job
                log.warning("publication %s: heartbeat not recorded", self.publication_id, exc_info=True)


def _stage(publication_id: int, stage: PublicationStage) -> None:
    """Record the job's stage on the row (and in job.meta for RQ dashboards)."""
    if stage == PublicationStage.PREPARING:
        publications.mark_running(publication_id)
    else:
        publications.set_stage(publication_id, stage)
    job = get_current_job()
    if job is not None:
        try:
            job.meta.update({"publication_id": publication_id, "stage": str(stage),
                             "progress": publications.PROGRESS[stage]})
            job.save_meta()
        except RedisError:  # progress is also on the row; a dashboard hiccup is not a failure
            log.debug("could not save job meta", exc_info=True)


def _local_date(when: dt.datetime, timezone: str) -> dt.date:
    return when.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(timezone)).date()


def warm_up(config: Any) -> None:
    """Make a worker's parent process as warm as a job leaves a process, so that every
    work horse RQ forks from it starts where a second job in one process would: the
    fonts, the title segmenter and the districts' signing keys loaded (a 20 MB font
    collection takes ≈50 ms a face, jieba's dictionary ≈1 s, an RSA key's consistency
    check a few ms), the modules a job imports imported
    (the renderer, qrcode, ReportLab's canvas, pyHanko's signing and validation: ≈1 s),
    a sample document rendered and signed as a job does (ReportLab's and pyHanko's lazy
    caches, the CRL, the TSA's dummy token), and, inside an app context, the job's SQL
    statements compiled (SQLAlchemy's statement cache is per engine: a horse inherits the
    parent's). Nothing here fails the worker: a job would report the error itself."""
    from . import linebreak
    from .signing import load_signer

    try:
        load_fonts(FontConfig.from_settings(config))
    except Exception as exc:  # the job itself will fail loudly with the details
        log.warning("fonts not preloaded: %s", exc)
    try:  # the word segmenter's dictionary for title line breaks (about a second to load)
        linebreak.warm_up()
    except Exception as exc:  # pragma: no cover - titles then load it in the job
        log.warning("title segmenter not preloaded: %s", exc)
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    signer = None
    for path in sorted(Path(config["KEYS_DIR"]).glob("district-*.p12")):
        try:
            signer = load_signer(path, passphrase.encode() if isinstance(passphrase, str) else passphrase)
        except Exception as exc:
            log.warning("signing key %s not preloaded: %s", path.name, exc)
    try:
        _rehearse(config, signer)
    except Exception:
        log.info("the worker's warm-up rehearsal failed; jobs warm up by themselves", exc_info=True)
    if has_app_context():
        try:
            _compile_statements()
        except Exception:
            db.session.rollback()
            log.info("the job's SQL statements were not precompiled", exc_info=True)


_REHEARSAL_TEXT = "一、总体要求\n坚持稳中求进，全年完成目标任务。\n（一）重点工作\n1. 推进项目建设。\n"


def _rehearse(config: Any, signer: Any) -> None:
    """Render a one-page sample and sign it as :func:`_publish` does (B-LTA when the TSA
    answers, else B-B), discarding the result; then stop the signing loop, so that the
    process forks with no thread or connection of ours."""
    from workflow.importer import import_text

    from . import ltv, verify  # noqa: F401  (verify: imported by the validation context)
    from .render import ApprovalMark, RenderInput, render_report
    from .signing import _stop_signing_loop, sign_pdf

    rendered = render_report(RenderInput(  # a 上行文, as _publish renders
        title="预热", outline=dict(import_text(_REHEARSAL_TEXT)), issuer="预热", town="预热",
        date=dt.date(2026, 1, 1), doc_number="预热〔2026〕1号", archive_no="预热〔2026〕1号",
        verify_url=verify_url(config, "预热〔2026〕1号"), fonts=FontConfig.from_settings(config), report_id=0,
        audit_head="0" * 64, signer="预热", addressee="预热",
        approval=ApprovalMark("预热", "同意。", dt.date(2026, 1, 1))))
    if signer is None:
        return
    try:
        sign_pdf(rendered.data, signer, seal_box=rendered.seal_box, reason="warm-up", signer_name="warm-up",
                 timestamper=ltv.timestamper(config), validation_context=ltv.embedding_context(config))
    except Exception as exc:  # the TSA is not up yet (make run starts it with the worker)
        log.info("warm-up: no B-LTA rehearsal (%s); a B-B one instead", exc)
        sign_pdf(rendered.data, signer, seal_box=rendered.seal_box, reason="warm-up", signer_name="warm-up")
    finally:
        _stop_signing_loop()


def _compile_statements() -> None:
    """Run the statements of a job with a publication id no row has (they read nothing
    and change nothing), so that SQLAlchemy compiles them once, here, rather than in every
    work horse (≈1–3 ms each)."""
    none = -1  # ids start at 1
    db.session.get(Publication, none, populate_existing=True)
    for model in (ReportVersion, Report, OrgUnit):
        db.session.get(model, none)
    db.session.scalar(select(Publication.attempts).where(Publication.id == none))
    report_head(none)
    _row_for_enqueue(none)
    publications.mark_running(none)
    for stage in (PublicationStage.RENDERING, PublicationStage.SIGNING):
        publications.set_stage(none, stage)
    publications.beat(none)
    # Those the archiving runs in its own transaction, rolled back here.
    publications.lock(none)
    publications.lock_unless_ready(none)
    publications.claim_archive_no(none, "", year=0, seq=0)
    publications.mark_ready(none, sha256="", size=0, signer=None, signed_at=None)
    db.session.rollback()


def _load_signer(config: Any, district: OrgUnit) -> Any:
    from .signing import load_signer

    path = signing_key_path(config, district.id)
    if not path.is_file():
        log.warning("no signing key for district %s: install its PKCS#12 as %s", district.id, path)
        raise SigningKeyMissing(district, path)
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    return load_signer(path, passphrase.encode() if isinstance(passphrase, str) else passphrase)


def _load_town_signer(config: Any, town: OrgUnit) -> Any:
    """The town's signer. A site with the development CA issues the town's key on demand
    (``KEYS_DIR/town-<id>.p12``, named after its issuing name; re-issued when the name or
    the CRL address changed); elsewhere the administrator installs it."""
    from . import ltv, signing

    path = town_key_path(config, town.id)
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    ca_dir = ltv.ca_directory(config)
    if (ca_dir / signing.CA_KEY_FILE).is_file() and (not path.is_file() or issued_by_dev_ca(ca_dir, path, secret)):
        signing.issue_district_certificate(ca_dir, town.issuing_name_or_default, path, secret,
                                           crl_url=ltv.crl_url(config))
    if not path.is_file():
        log.warning("no signing key for town %s: install its PKCS#12 as %s", town.id, path)
        raise TownSigningKeyMissing(town, path)
    return signing.load_signer(path, secret)


def issued_by_dev_ca(ca_dir: Path, p12: Path, passphrase: bytes | None) -> bool:
    """True when ``p12`` was issued by the development CA (a key from another CA is never replaced)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    from .signing import create_dev_ca

    try:
        _, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), passphrase)
    except ValueError:
        return False
    return cert is not None and cert.issuer == create_dev_ca(ca_dir).certificate.subject


def verify_url(config: Any, archive_no: str) -> str:
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/verify?no={quote(archive_no)}"


def _publish(publication_id: int) -> dict[str, Any]:
    config = current_app.config
    archive_dir = config["ARCHIVE_DIR"]
    timezone = config.get("TIMEZONE", TIMEZONE)
    archive.recover_orphans(archive_dir, publication_id)

    pub = db.session.get(Publication, publication_id, populate_existing=True)
    if pub is None:
        raise NotFound("publication_id", publication_id=publication_id)
    if pub.status == PublicationStatus.READY:
        if not publications.is_ready(pub) or not archive.path_for(archive_dir, pub.file_sha256 or "").is_file():
            raise NotFound("archive_file")
        return _summary(pub)

    _stage(publication_id, PublicationStage.PREPARING)
    version = db.session.get_one(ReportVersion, pub.report_version_id)
    report = db.session.get_one(Report, pub.report_id)
    # The approval is bound to a content hash: print exactly that content or nothing.
    approved = pub.content_sha256
    if version.content_sha256 != approved or content_sha256(version.title, version.outline) != approved:
        raise ContentMismatch(report.id, version.number, approved)
    district = db.session.get_one(OrgUnit, pub.district_id)
    town = report.org_unit
    signer = _load_signer(config, district)
    town_signer = _load_town_signer(config, town)
    from .upward import approvals_of

    approvals = approvals_of(report.id, version.number, district_approved_at=pub.created_at, timezone=timezone)
    archive_no = archive.allocate_archive_no(publication_id, timezone=timezone)
    doc_number = archive.allocate_doc_number(publication_id, town_id=town.id, year=approvals.town_date.year)

    _stage(publication_id, PublicationStage.RENDERING)
    delay = os.environ.get(_TEST_RENDER_DELAY_ENV)
    if delay and db.session.scalar(select(Publication.attempts).where(Publication.id == publication_id)) == 1:
        time.sleep(float(delay))
    from .render import ApprovalMark, RenderInput, render_report

    # The town's 上行文 to the district: its 发文机关标志, 发文字号, 签发人 and seal; the
    # district's approval as a mark of its own, its archive number in the 版记.
    district_name = district.issuing_name_or_default
    rendered = render_report(RenderInput(
        title=version.title, outline=version.outline, issuer=town.issuing_name_or_default, town=town.name,
        date=approvals.town_date, doc_number=doc_number, archive_no=archive_no,
        verify_url=verify_url(config, archive_no), fonts=FontConfig.from_settings(config), report_id=report.id,
        audit_head=report_head(report.id), signer=approvals.town_signer, addressee=district_name,
        approval=ApprovalMark(district_name, approvals.district_opinion, approvals.district_date),
    ))
    assert rendered.approval_seal_box is not None  # a 上行文 always has the approval mark

    _stage(publication_id, PublicationStage.SIGNING)
    signed = sign_upward(
        config, rendered, town_signer=town_signer, district_signer=signer,
        town_reason=f"签发 {doc_number} report {report.id} version {version.number} sha256 {pub.content_sha256}",
        district_reason=f"批准发布 {archive_no} report {report.id} version {version.number} "
                        f"sha256 {pub.content_sha256}",
        town_location=town.issuing_name_or_default, district_location=district_name,
        town_signer_name=approvals.town_signer or town.issuing_name_or_default,
        district_signer_name=approvals.district_reviewer or district_name,
        contact=verify_url(config, archive_no),
    )
    from . import ltv

    # When it was signed: the TSA's time in the signature's timestamp token; the clock only for B-B.
    signed_at = ltv.signature_time(signed) or utcnow()

    _stage(publication_id, PublicationStage.ARCHIVING)
    stored = archive.archive_publication(archive_dir, publication_id, signed,
                                         signer=_signer_name(signer, district), signed_at=signed_at)
    if not stored.won:
        log.info("publication %s was archived by a concurrent run; this run's PDF is discarded", publication_id)
    return _summary(db.session.get_one(Publication, publication_id, populate_existing=True))


def sign_upward(config: Any, rendered: Any, *, town_signer: Any, district_signer: Any, town_reason: str,
                district_reason: str, town_location: str, district_location: str, town_signer_name: str,
                district_signer_name: str, contact: str) -> bytes:
    """The town's 上行文 (``rendered``: a :class:`pdf.render.RenderedPdf` with its approval
    mark) signed as publishing signs it: two PAdES signatures, each with a signature
    timestamp from the TSA (TSA_URL) and its certificates and CRLs in the DSS, then one
    document timestamp over both (PAdES B-LTA for both: it proves both DSS updates existed
    then; ``flask archive-renew`` adds the next). First the town's, over its seal: it
    certifies the document and allows nothing but signing (DocMDP P=2); then the district's
    approval over the district's seal, in a field made with the town's signature, before it
    (signing it is then form filling, which P=2 allows; a new visible field would not be). pdf.verify
    accepts exactly this pair. (bench/bench_pdf.py times this function.)"""
    from pyhanko.sign.fields import MDPPerm

    from . import ltv
    from .signing import sign_pdf  # twice: the town, then the district

    assert rendered.approval_seal_box is not None  # a 上行文 always has the approval mark
    # One validation context for both signatures: the certificate paths, CRLs and TSA
    # tokens it has checked for the town's are not checked again for the district's.
    context = ltv.embedding_context(config)
    town_signed = sign_pdf(
        rendered.data, town_signer, seal_box=rendered.seal_box, field_name=TOWN_FIELD, certify=True,
        docmdp_permissions=MDPPerm.FILL_FORMS, reason=town_reason, location=town_location, contact=contact,
        signer_name=town_signer_name, timestamper=ltv.timestamper(config), validation_context=context,
        document_timestamp=False,  # the district's closes both
        other_fields=((DISTRICT_FIELD, rendered.approval_seal_box),),  # made before the town signs
    )
    return sign_pdf(
        town_signed, district_signer, seal_box=rendered.approval_seal_box, field_name=DISTRICT_FIELD,
        certify=False, reason=district_reason, location=district_location, contact=contact,
        signer_name=district_signer_name, timestamper=ltv.timestamper(config), validation_context=context,
    )


def _signer_name(signer: Any, district: OrgUnit) -> str:
    """The signing certificate's subject, if the signer object exposes it."""
    try:
        return (signer.signing_cert.subject.native.get("common_name") or district.name)[:200]
    except AttributeError:
        return district.name


def _summary(pub: Publication) -> dict[str, Any]:
    return {"publication_id": pub.id, "archive_no": pub.archive_no, "sha256": pub.file_sha256,
            "status": pub.status}


# ---------------------------------------------------------------- failure callback


def on_publish_failure(job: Job, connection: Any, exc_type: type | None, exc_value: BaseException | None,
                       traceback: Any) -> None:
    """RQ ``on_failure`` callback: record the failed attempt on the row.

    RQ calls it for every failed attempt (and for a job abandoned by a dead worker), before
    deciding to retry, with ``job.retries_left`` not yet decremented: a retry remains when
    it is positive. The row then goes back to ``queued`` with the error kept; else it turns
    ``failed`` and waits for an admin's retry. A permanent error (``PERMANENT_ERRORS``) fails
    at once instead of spending the retries' minutes."""
    publication_id = int(job.args[0])
    if isinstance(exc_value, PERMANENT_ERRORS):
        job.retries_left = 0  # RQ decides on the retry right after this callback, from this object
    retrying = bool(job.retries_left and job.retries_left > 0)
    if exc_type is AbandonedJobError or isinstance(exc_value, AbandonedJobError):
        error = StoredError("AbandonedJobError", "job.worker_died")
    else:
        error = StoredError.of(exc_type, exc_value)
    app = _job_app()
    with app.app_context():
        publications.record_failure(publication_id, error, retrying=retrying)
    log.warning("publication %s: attempt failed (%s: %s)%s", publication_id, error.exception, exc_value,
                f"; {job.retries_left} retries left" if retrying else "; no retry left")


# ---------------------------------------------------------------- sweeper


@dataclass
class SweepResult:
    checked: int = 0
    requeued: list[int] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    scheduler_locks_released: list[str] = field(default_factory=list)
    orphans_removed: int = 0
    unavailable: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "requeued": self.requeued, "overdue": self.overdue,
                "scheduler_locks_released": self.scheduler_locks_released,
                "orphans_removed": self.orphans_removed, "unavailable": self.unavailable}


def stale_after(config: Any) -> dt.timedelta:
    """How long a running row's heartbeat may be silent before its attempt is presumed
    dead: ``PDF_STALE_AFTER`` seconds, else five heartbeats."""
    seconds = config.get("PDF_STALE_AFTER")
    if seconds is None:
        seconds = STALE_BEATS * heartbeat_seconds(config)
    return dt.timedelta(seconds=float(seconds))


def sweep(*, limit: int = 1000) -> SweepResult:
    """Hand every queued/running publication whose job was lost back to the queue.

    First RQ's own repairs, for every queue the worker serves: scheduler locks of dead
    schedulers are released, retries overdue in the scheduled registry (no scheduler
    ran them) are enqueued, and the started registry's cleanup retries jobs whose
    execution expired. Then, per unfinished publication, lost means: no job with its id
    in Redis (Redis restarted empty, or was never reachable); a job that finished or
    failed while the row still says queued/running; or a job "started" by an attempt
    whose heartbeat stopped (``stale_after``: its worker or work horse died). Such a
    publication is re-enqueued once (``enqueue_publication`` re-checks under a lock).
    Orphan files are removed too."""
    config = current_app.config
    result = SweepResult()
    result.orphans_removed = archive.recover_orphans(config["ARCHIVE_DIR"])
    try:
        connection = get_redis(current_app)
        queues = worker_queues(current_app, connection)
        result.scheduler_locks_released = release_dead_scheduler_locks(queues)
        result.overdue = enqueue_overdue(queues)
        for each in queues:
            each.started_job_registry.cleanup()
        queue = queues[-1]
    except QueueUnavailable as exc:
        result.unavailable = str(exc)
        return result
    except RedisError as exc:
        result.unavailable = f"Redis unreachable: {exc}"
        return result
    cutoff = utcnow() - stale_after(config)
    rows = db.session.execute(
        select(Publication.id, Publication.status, Publication.updated_at, Publication.report_id, ReportVersion.number)
        .join(ReportVersion, ReportVersion.id == Publication.report_version_id)
        .where(Publication.status.in_(publications.UNFINISHED))
        .order_by(Publication.id).limit(limit)
    ).all()
    db.session.commit()
    for row in rows:
        result.checked += 1
        job = queue.fetch_job(job_id_for(row.report_id, row.number))
        status = job.get_status(refresh=False) if job is not None else None
        if job is None or status is None or status not in ACTIVE:
            reason = "no job in Redis" if status is None else f"job {status.value}"
        elif status == JobStatus.STARTED and row.status == PublicationStatus.RUNNING and row.updated_at < cutoff:
            reason = f"job started but no heartbeat since {row.updated_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            continue
        new_job = enqueue_publication(row.id, stale_before=cutoff)
        if new_job:
            log.warning("sweeper: publication %s re-enqueued (%s)", row.id, reason)
            result.requeued.append(row.id)
    db.session.commit()
    return result


# ---------------------------------------------------------------- the status, as it is


def pdf_status(pub: Publication) -> PdfStatus:
    """The publication's status as the page and the API show it: the row, corrected by
    what is known to be alive. "running" only while the attempt's heartbeat is fresh and
    the queue does not say otherwise (a work horse killed under a live worker has its
    retry scheduled at once); a dead attempt is shown queued (the sweeper or the retry
    hands it to a worker again); a retry waiting in RQ's scheduler shows when it runs."""
    config = current_app.config
    alive_after = utcnow() - stale_after(config)
    retry_at = None
    if (pub.status == PublicationStatus.QUEUED and pub.error) or pub.status == PublicationStatus.RUNNING:
        job_status, retry_at = _job_state(pub)
        if pub.status == PublicationStatus.RUNNING and job_status in (JobStatus.SCHEDULED, JobStatus.QUEUED):
            alive_after = utcnow()  # the queue holds the next attempt: this one is over
    return publications.status_of(pub, alive_after=alive_after, retry_at=retry_at)


def _job_state(pub: Publication) -> tuple[JobStatus | None, dt.datetime | None]:
    """The status of the publication's job in Redis and, when it waits in RQ's scheduler,
    when it will be put back on the queue (naive UTC). (None, None) when Redis does not
    answer: the status does without it."""
    try:
        connection = get_redis(current_app)
        queue = get_queue(current_app, connection)
        job_id = job_id_for(pub.report_id, pub.report_version.number)
        job = queue.fetch_job(job_id)
        if job is None:
            return None, None
        status = job.get_status(refresh=False)
        score = connection.zscore(ScheduledJobRegistry(queue.name, connection=connection).key, job_id) \
            if status == JobStatus.SCHEDULED else None
    except (QueueUnavailable, RedisError, OSError):
        return None, None
    retry_at = dt.datetime.fromtimestamp(float(score), dt.UTC).replace(tzinfo=None) if score is not None else None
    return status, retry_at
