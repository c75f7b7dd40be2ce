"""The RQ jobs that publish approved versions as signed, archived PDFs.

The ``Publication`` row is the source of truth for a job's status, stage and progress;
RQ only carries the work. The pieces:

- :func:`enqueue_publication` — called by ``workflow.services`` after an approval has
  committed. One job per approved version, with the id ``publish-r<report>-v<version>``:
  a second call while that job is queued, scheduled or running adds nothing. Without a
  reachable Redis it logs and returns; the row stays ``queued`` for the sweeper.
- :func:`publish` — the job: checks the version's content hash against the one the
  approval is bound to, allocates the archive number once, renders (10→40), signs with
  the district's key (→70), archives the file and marks the row ready (→100). It raises
  on any failure so that RQ retries it (``Retry(max=3, interval=[5, 30, 120])``).
- :func:`on_publish_failure` — the ``on_failure`` callback: records the error; the row
  turns ``failed`` only when RQ has no retry left (RQ runs this callback on *every*
  failed attempt, before it decides to retry, with ``job.retries_left`` not yet
  decremented; RQ also runs it for a job abandoned by a dead worker).
- :func:`sweep` — the guarantee behind both: re-enqueues queued/running publications
  whose job is gone from Redis, finished without a result, or stuck "started" far past
  the job timeout (its worker died), and removes orphan files.
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
from redis.exceptions import LockError, RedisError
from rq import Callback, Retry, get_current_job
from rq.exceptions import AbandonedJobError, DuplicateJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from workflow.content import content_sha256
from workflow.db import db
from workflow.models import OrgUnit, Publication, Report, ReportVersion, utcnow

from . import archive
from .queue import QueueUnavailable, get_queue, get_redis

log = logging.getLogger(__name__)

RETRY_MAX = 3
RETRY_INTERVALS = (5, 30, 120)
JOB_TIMEOUT = 600  # seconds; a 40-page plan renders and signs in a few seconds
TIMEZONE = "Asia/Shanghai"
# A job whose row has not moved for this long past the job timeout has lost its worker.
STALE_GRACE = dt.timedelta(minutes=2)

ACTIVE = {JobStatus.CREATED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED,
          JobStatus.RATE_LIMITED, JobStatus.READY_TO_ENQUEUE}

# Only the kill test's worker subprocess sets this: it makes the rendering stage slow
# enough to be killed mid-job deterministically.
_TEST_RENDER_DELAY_ENV = "CHENGBAO_TEST_RENDER_DELAY"


class PublishError(RuntimeError):
    """A publication cannot be made as things stand (the message says why and what to do)."""


class SigningKeyMissing(PublishError):
    pass


class ContentMismatch(PublishError):
    pass


# Retrying cannot mend these: the key must be installed (then an admin retries), and content
# that differs from what was approved must never be printed.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (SigningKeyMissing, ContentMismatch)


def job_id_for(report_id: int, version_number: int) -> str:
    return f"publish-r{report_id}-v{version_number}"


def signing_key_path(config: Any, district_id: int) -> Path:
    """Where a district's PKCS#12 (key + certificate) lives: ``KEYS_DIR/district-<id>.p12``."""
    return Path(config["KEYS_DIR"]) / f"district-{district_id}.p12"


# ---------------------------------------------------------------- the app inside a worker

_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()
_engine_pids: dict[int, int] = {}  # id(app) -> the pid whose connections its pool holds


def set_worker_app(app: Flask) -> None:
    """Use ``app`` for the jobs run by this process (``flask worker`` and the tests do)."""
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
    one created from the environment once per process (``rq worker`` without Flask)."""
    global _worker_app
    with _worker_app_lock:
        if has_app_context():
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        else:
            if _worker_app is None:
                from app import create_app

                _worker_app = create_app()
            app = _worker_app
        _drop_inherited_connections(app)
        return app


# ---------------------------------------------------------------- enqueueing


def _retry(config: Any) -> Retry:
    intervals = config.get("PDF_RETRY_INTERVALS", RETRY_INTERVALS)
    return Retry(max=int(config.get("PDF_RETRY_MAX", RETRY_MAX)), interval=list(intervals))


def _job_timeout(config: Any) -> int:
    return int(config.get("PDF_JOB_TIMEOUT", JOB_TIMEOUT))


def enqueue_publication(publication_id: int, *, stale_before: dt.datetime | None = None) -> str | None:
    """Queue the publishing job of a publication; returns the job id, or None when the
    publication is already ready or no Redis is reachable (logged: the sweeper retries).

    At most one job per approved version: while a job with that id is queued, scheduled
    or running, nothing is added. A finished or failed job with that id is replaced. A
    *started* job is replaced only when ``stale_before`` is given and the row, re-read
    under the lock, has not moved since then (the sweeper: its worker died). A Redis lock
    makes check-and-enqueue atomic across processes, and RQ's ``unique=True`` refuses a
    second job with the same id in any case."""
    app = current_app
    row = _row_for_enqueue(publication_id)
    if row is None:
        raise LookupError(f"publication {publication_id} not found")
    if row.status == "ready":
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
                    if fresh is None or fresh.status not in ("queued", "running") or fresh.updated_at >= stale_before:
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


def _row_for_enqueue(publication_id: int):
    return db.session.execute(
        select(Publication.status, Publication.updated_at, Publication.report_id, ReportVersion.number)
        .join(ReportVersion, ReportVersion.id == Publication.report_version_id)
        .where(Publication.id == publication_id)
    ).one_or_none()


def retry_publication(publication_id: int) -> str | None:
    """An admin's retry of a failed publication: back to queued, then enqueued.

    Conditional on the row being failed, so two clicks make one retry. Returns the job id
    (None when Redis is unreachable: the row is queued and the sweeper will hand it over)."""
    result = db.session.execute(
        update(Publication).where(Publication.id == publication_id, Publication.status == "failed")
        .values(status="queued", stage=None, progress=0, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise PublishError("只有失败的发布可以重试 / only a failed publication can be retried")
    db.session.commit()
    return enqueue_publication(publication_id)


# ---------------------------------------------------------------- the job


def publish(publication_id: int) -> dict[str, Any]:
    """RQ job: make, sign and archive the PDF of one publication (idempotent)."""
    app = _job_app()
    with app.app_context():
        return _publish(publication_id)


def _stage(publication_id: int, stage: str, progress: int, **values: Any) -> None:
    """Record the job's stage on the row (and in job.meta for RQ dashboards)."""
    db.session.execute(
        update(Publication).where(Publication.id == publication_id, Publication.status != "ready")
        .values(stage=stage, progress=progress, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    job = get_current_job()
    if job is not None:
        try:
            job.meta.update({"publication_id": publication_id, "stage": stage, "progress": progress})
            job.save_meta()
        except RedisError:  # progress is also on the row; a dashboard hiccup is not a failure
            log.debug("could not save job meta", exc_info=True)


def _local_date(when: dt.datetime, timezone: str) -> dt.date:
    return when.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(timezone)).date()


def font_config(config: Any):
    """The document's faces from configuration (``PDF_FONTS``, else ``FONT_BODY`` …)."""
    from .fonts import FontConfig

    mapping = dict(config.get("PDF_FONTS") or {})
    for role in ("body", "heiti", "kaiti", "title"):
        path = config.get(f"FONT_{role.upper()}")
        if path and role not in mapping:
            mapping[role] = path
    return FontConfig.from_mapping(mapping)


def warm_up(config: Any) -> None:
    """Load the fonts and the districts' signing keys once in a worker's parent process,
    so that every forked work horse inherits them parsed (a 20 MB font collection takes
    ≈50 ms a face; an RSA key's consistency check a few ms)."""
    from .fonts import load_fonts
    from .signing import load_signer

    try:
        load_fonts(font_config(config))
    except Exception as exc:  # the job itself will fail loudly with the details
        log.warning("fonts not preloaded: %s", exc)
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    for path in sorted(Path(config["KEYS_DIR"]).glob("district-*.p12")):
        try:
            load_signer(path, passphrase.encode() if isinstance(passphrase, str) else passphrase)
        except Exception as exc:
            log.warning("signing key %s not preloaded: %s", path.name, exc)


def _load_signer(config: Any, district: OrgUnit):
    from .signing import load_signer

    path = signing_key_path(config, district.id)
    if not path.is_file():
        raise SigningKeyMissing(
            f"{district.name}（id {district.id}）没有签名密钥：请管理员把该区的 PKCS#12 文件放到 {path}"
            f"（开发环境运行 flask dev-keys）/ no signing key for district {district.id}: install its "
            f"PKCS#12 as {path} (development: flask dev-keys)")
    passphrase = config.get("SIGNING_P12_PASSPHRASE")
    return load_signer(path, passphrase.encode() if isinstance(passphrase, str) else passphrase)


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
        raise LookupError(f"publication {publication_id} not found")
    if pub.status == "ready":
        if not pub.file_sha256 or not archive.path_for(archive_dir, pub.file_sha256).is_file():
            raise PublishError(f"publication {publication_id} is ready but its archive file is missing")
        return _summary(pub)

    _stage(publication_id, "preparing", 5, status="running", error=None, attempts=Publication.attempts + 1)
    version = db.session.get(ReportVersion, pub.report_version_id)
    report = db.session.get(Report, pub.report_id)
    # The approval is bound to a content hash: print exactly that content or nothing.
    if version.content_sha256 != pub.content_sha256 or content_sha256(version.title, version.outline) != pub.content_sha256:
        raise ContentMismatch(f"版本 {version.number} 的内容与批准时的哈希不符 / version {version.number} of report "
                              f"{report.id} does not match the approved content hash {pub.content_sha256[:12]}…")
    district = db.session.get(OrgUnit, pub.district_id)
    signer = _load_signer(config, district)
    archive_no = archive.allocate_archive_no(publication_id, timezone=timezone)

    _stage(publication_id, "rendering", 10)
    delay = os.environ.get(_TEST_RENDER_DELAY_ENV)
    if delay:
        time.sleep(float(delay))
    from .render import RenderInput, render_report

    rendered = render_report(RenderInput(
        title=version.title, outline=version.outline, issuer=district.name, town=report.org_unit.name,
        date=_local_date(pub.created_at, timezone), doc_number=archive_no, archive_no=archive_no,
        verify_url=verify_url(config, archive_no), fonts=font_config(config), report_id=report.id,
    ))

    _stage(publication_id, "signing", 40)
    from .signing import sign_pdf

    signed_at = utcnow()
    signed = sign_pdf(
        rendered.data, signer, seal_box=rendered.seal_box,
        reason=f"批准发布 {archive_no} report {report.id} version {version.number} sha256 {pub.content_sha256}",
        location=district.name, contact=verify_url(config, archive_no), signer_name=district.name,
    )

    _stage(publication_id, "archiving", 70)
    stored = archive.archive_publication(archive_dir, publication_id, signed,
                                         signer=_signer_name(signer, district), signed_at=signed_at)
    if not stored.won:
        log.info("publication %s was archived by a concurrent run; this run's PDF is discarded", publication_id)
    pub = db.session.get(Publication, publication_id, populate_existing=True)
    return _summary(pub)


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
        message = "AbandonedJobError: 生成任务所在的进程意外终止 / the worker running the job died"
    else:
        name = getattr(exc_type, "__name__", "Error")
        message = f"{name}: {exc_value}"
    if retrying:
        message += f" — 将自动重试（剩余 {job.retries_left} 次）/ will retry ({job.retries_left} left)"
    app = _job_app()
    with app.app_context():
        db.session.execute(
            update(Publication).where(Publication.id == publication_id, Publication.status != "ready")
            .values(status="queued" if retrying else "failed", stage="retrying" if retrying else "failed",
                    error=message[:2000], updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    log.warning("publication %s: attempt failed (%s)%s", publication_id, message,
                "" if retrying else "; no retry left")


# ---------------------------------------------------------------- sweeper


@dataclass
class SweepResult:
    checked: int = 0
    requeued: list[int] = field(default_factory=list)
    orphans_removed: int = 0
    unavailable: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "requeued": self.requeued, "orphans_removed": self.orphans_removed,
                "unavailable": self.unavailable}


def stale_after(config: Any) -> dt.timedelta:
    """How long a running row may stay unchanged before its worker is presumed dead:
    longer than the job timeout, after which RQ would have stopped a live job anyway."""
    seconds = config.get("PDF_STALE_AFTER")
    if seconds is not None:
        return dt.timedelta(seconds=float(seconds))
    return dt.timedelta(seconds=_job_timeout(config)) + STALE_GRACE


def sweep(*, limit: int = 1000) -> SweepResult:
    """Hand every queued/running publication whose job was lost back to the queue.

    Lost means: no job with its id in Redis (Redis restarted, or it was never reachable);
    a job that finished or failed while the row still says queued/running; or a job still
    "started" whose row has not moved for longer than the job timeout (its worker died,
    e.g. SIGKILL). Before that, RQ's own cleanup of the started registry runs (it retries
    jobs whose worker's heartbeat expired). Orphan files are removed too."""
    config = current_app.config
    result = SweepResult()
    result.orphans_removed = archive.recover_orphans(config["ARCHIVE_DIR"])
    try:
        connection = get_redis(current_app)
        queue = get_queue(current_app, connection)
        queue.started_job_registry.cleanup()
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
        .where(Publication.status.in_(("queued", "running")))
        .order_by(Publication.id).limit(limit)
    ).all()
    db.session.commit()
    for row in rows:
        result.checked += 1
        job = queue.fetch_job(job_id_for(row.report_id, row.number))
        status = job.get_status(refresh=False) if job is not None else None
        if job is None or status not in ACTIVE:
            reason = "no job in Redis" if job is None else f"job {status.value}"
        elif status == JobStatus.STARTED and row.updated_at < cutoff:
            reason = f"job started but no progress since {row.updated_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            continue
        new_job = enqueue_publication(row.id, stale_before=cutoff)
        if new_job:
            log.warning("sweeper: publication %s re-enqueued (%s)", row.id, reason)
            result.requeued.append(row.id)
    db.session.commit()
    return result


# ---------------------------------------------------------------- status for the UI


def status_of(pub: Publication | None) -> dict[str, Any]:
    """The JSON the report page polls: ``{"status","progress","stage","url","archive_no","error"}``."""
    from flask import url_for

    if pub is None:
        return {"status": None, "progress": 0, "stage": None, "url": None, "archive_no": None, "error": None}
    ready = pub.status == "ready" and bool(pub.file_sha256)
    return {
        "status": pub.status,
        "progress": 100 if ready else int(pub.progress or 0),
        "stage": pub.stage,
        "url": url_for("archive.report_pdf", report_id=pub.report_id) if ready else None,
        "archive_no": pub.archive_no,
        "error": pub.error if pub.status in ("failed", "queued") else None,
    }
