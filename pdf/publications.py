"""The ``Publication`` row: every change the PDF layer makes to it, and how it reads.

The approval creates the row (``workflow``, in the approval's transaction); from then on
the functions below are the only writers. Each is one conditional ``UPDATE`` keyed by
the publication id, so concurrent runs (a retry, the sweeper, a second worker) settle on
the database, never on what a process read earlier:

==========================  ==============================================  ============
function                    change                                          transaction
==========================  ==============================================  ============
:func:`mark_running`        an attempt starts: running, attempts + 1        commits
:func:`set_stage`           the attempt's stage and progress                commits
:func:`beat`                the running attempt is alive (its heartbeat)    commits
:func:`record_failure`      the attempt failed: queued again, or failed     commits
:func:`reset_for_retry`     an admin's retry: failed → queued               commits
:func:`claim_archive_no`    the archive number, once                        the caller's
:func:`lock`                the row lock (nothing changes)                  the caller's
:func:`lock_unless_ready`   the row lock, unless it is ready                the caller's
:func:`mark_ready`          signed and archived: ready, with the file       the caller's
:func:`set_approval_form`   the approval form's hash, once (on a ready row) the caller's
==========================  ==============================================  ============

None of them touches a row that is ready (a ready publication is final), but for
``set_approval_form``, which only fills in the form's hash the row did not have.

Reading: :func:`status_of` is the one rule for "the PDF is ready" (the row says ready
*and* names its file's hash) and for "running" (the row says running *and* its
heartbeat, ``updated_at``, is fresh), and the status both front doors show. A failed attempt is
kept as a :class:`StoredError`: the message key and params the reader's language is
rendered from, never a sentence, and never an absolute server path; and a reason code
(:data:`REVIEWER_REASONS`), all a reviewer is told.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CursorResult, Update, update

from workflow.db import db
from workflow.errors import DomainError
from workflow.models import Publication, PublicationStage, PublicationStatus, utcnow

# Unfinished: the sweeper looks after these.
UNFINISHED = (PublicationStatus.QUEUED, PublicationStatus.RUNNING)

# The progress bar's value at the start of each stage.
PROGRESS = {
    PublicationStage.PREPARING: 5,
    PublicationStage.RENDERING: 10,
    PublicationStage.SIGNING: 40,
    PublicationStage.ARCHIVING: 70,
    PublicationStage.DONE: 100,
}

MAX_ERROR_CHARS = 2000

# The stage shown for a running row whose attempt stopped beating (never stored).
STALLED = "stalled"


# ---------------------------------------------------------------- the failed attempt

# An absolute path (``/srv/chengbao/keys/district-3.p12``): only its last part is kept.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:[^\s/'\"()\[\]{},;:]+/)+([^\s/'\"()\[\]{},;:]+)")


def without_paths(text: str) -> str:
    """``text`` with every absolute path cut to its file name."""
    return _ABSOLUTE_PATH.sub(r"\1", text)


# What a reviewer is told of a failed attempt: the reason code of its message key, one
# sentence each (``publication_failed.<reason>`` in ``web/messages.py``). The details (the
# key's own sentence with its params, the exception) are for the district's administrators,
# who can act on them, and for the log.
REVIEWER_REASONS = {
    "invalid.signing_key_missing": "signing_key",
    "invalid.town_signing_key_missing": "signing_key",
    "conflict.content_mismatch": "content_changed",
    "invalid.font_file_missing": "fonts",
    "invalid.font_unreadable": "fonts",
    "invalid.font_no_unicode_map": "fonts",
    "job.worker_died": "interrupted",
}
INTERNAL_REASON = "internal"
FAILURE_REASONS = (*dict.fromkeys(REVIEWER_REASONS.values()), INTERNAL_REASON)


@dataclass(frozen=True)
class StoredError:
    """A failed attempt as the row keeps it for reviewers and administrators.

    ``exception`` is the exception's class name (``SigningKeyMissing``); ``key`` names the
    explanation in ``web/messages.py`` and ``params`` fill it in, so every reader gets it
    in their own language. Absolute server paths are cut to file names. ``reason`` is
    what a reviewer is told (:data:`REVIEWER_REASONS`)."""

    exception: str
    key: str | None
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = field(init=False, default=INTERNAL_REASON)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", REVIEWER_REASONS.get(self.key or "", INTERNAL_REASON))

    @property
    def code(self) -> str:
        """The category part of ``key`` (``invalid`` of ``invalid.signing_key_missing``)."""
        return (self.key or "").partition(".")[0]

    @classmethod
    def of(cls, exc_type: type[BaseException] | None, exc: BaseException | None) -> StoredError:
        """The stored form of an attempt's exception. A domain error keeps its key and
        params; anything else becomes ``job.failed`` with the exception's own text."""
        name = getattr(exc_type, "__name__", None) or type(exc).__name__
        if isinstance(exc, DomainError):
            key, params = exc.key, dict(exc.params)
        elif name == "AbandonedJobError":  # RQ's word for a job whose worker died
            key, params = "job.worker_died", {}
        else:
            key, params = "job.failed", {"error": str(exc) if exc is not None else ""}
        return cls(name, key, {k: _plain(v) for k, v in params.items()})

    def to_column(self) -> str:
        head = {"type": self.exception, "key": self.key, "reason": self.reason}
        text = json.dumps(head | {"params": self.params}, ensure_ascii=False)
        if len(text) <= MAX_ERROR_CHARS:
            return text
        shortened = {k: (v[:200] + "…" if isinstance(v, str) and len(v) > 200 else v) for k, v in self.params.items()}
        return json.dumps(head | {"params": shortened}, ensure_ascii=False)

    @classmethod
    def from_column(cls, text: str | None) -> StoredError | None:
        """The error kept on a row; a row written before errors were stored as keys keeps
        its text as ``params["error"]`` with no key."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data["type"]), data.get("key"), dict(data.get("params") or {}))
        except (ValueError, TypeError, KeyError):
            return cls("", None, {"error": without_paths(text)})


def _plain(value: Any) -> Any:
    """A JSON value for a message parameter, without server paths."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return without_paths(str(value))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class PdfStatus:
    """Where a publication's PDF stands, as the browser and the API show it."""

    publication_id: int
    report_id: int
    status: str
    ready: bool
    progress: int
    stage: str | None
    archive_no: str | None
    sha256: str | None
    # The last failed attempt, while the row is failed or queued for an automatic retry.
    error: StoredError | None
    # The running attempt's last heartbeat (naive UTC); for a silent one, when it was last heard.
    heartbeat_at: dt.datetime | None = None
    # When an automatic retry will run (naive UTC), if the queue says so.
    retry_at: dt.datetime | None = None
    doc_number: str | None = None  # the town's 发文字号 printed on the PDF (青政〔2026〕3号)


def is_ready(pub: Publication) -> bool:
    """The PDF can be served: the row says ready and names the file by its hash."""
    return pub.status == PublicationStatus.READY and bool(pub.file_sha256)


def status_of(pub: Publication, *, alive_after: dt.datetime | None = None,
              retry_at: dt.datetime | None = None) -> PdfStatus:
    """The status to show. With ``alive_after`` (naive UTC), a running row whose heartbeat
    is older is shown as what it is, an attempt that died and waits to be handed to a
    worker again: queued, at 0 %, with the time it was last heard of. Nothing queued shows
    progress: an attempt that has not started (or is over) has made none."""
    ready = is_ready(pub)
    status: str = pub.status
    stage = pub.stage
    heartbeat_at = pub.updated_at if status == PublicationStatus.RUNNING else None
    if status == PublicationStatus.RUNNING and alive_after is not None and pub.updated_at < alive_after:
        status, stage = PublicationStatus.QUEUED, STALLED
    failed_or_waiting = status in (PublicationStatus.FAILED, PublicationStatus.QUEUED)
    progress = 100 if ready else 0 if status == PublicationStatus.QUEUED else int(pub.progress or 0)
    return PdfStatus(
        publication_id=pub.id, report_id=pub.report_id, status=status, ready=ready, progress=progress,
        stage=stage, archive_no=pub.archive_no, sha256=pub.file_sha256,
        error=StoredError.from_column(pub.error) if failed_or_waiting and pub.status != PublicationStatus.RUNNING
        else None,
        heartbeat_at=heartbeat_at, retry_at=retry_at if status == PublicationStatus.QUEUED else None,
        doc_number=pub.doc_number,
    )


# ---------------------------------------------------------------- the job's writes


def _unless_ready(publication_id: int) -> Update:
    return update(Publication).where(Publication.id == publication_id,
                                     Publication.status != PublicationStatus.READY)


def _run(statement: Update) -> int:
    """Execute an UPDATE; the number of rows it changed."""
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    assert isinstance(result, CursorResult)
    return result.rowcount


def mark_running(publication_id: int) -> None:
    """An attempt starts: running, preparing, the previous error cleared, one more attempt. Commits."""
    _run(_unless_ready(publication_id).values(
        status=PublicationStatus.RUNNING, stage=PublicationStage.PREPARING,
        progress=PROGRESS[PublicationStage.PREPARING], error=None, attempts=Publication.attempts + 1,
        updated_at=utcnow()))
    db.session.commit()


def set_stage(publication_id: int, stage: PublicationStage) -> None:
    """The running attempt has reached ``stage`` (its progress is ``PROGRESS[stage]``). Commits."""
    _run(_unless_ready(publication_id).values(stage=stage, progress=PROGRESS[stage], updated_at=utcnow()))
    db.session.commit()


def beat(publication_id: int) -> None:
    """The running attempt is alive: its heartbeat (``updated_at``) is now. Only a running
    row beats; nothing else changes. Commits."""
    _run(update(Publication).where(Publication.id == publication_id,
                                   Publication.status == PublicationStatus.RUNNING).values(updated_at=utcnow()))
    db.session.commit()


def record_failure(publication_id: int, error: StoredError, *, retrying: bool) -> None:
    """An attempt failed: queued again when RQ retries it, else failed (an admin may
    retry). The error is kept either way. Commits."""
    _run(_unless_ready(publication_id).values(
        status=PublicationStatus.QUEUED if retrying else PublicationStatus.FAILED,
        stage=PublicationStage.RETRYING if retrying else PublicationStage.FAILED,
        error=error.to_column(), updated_at=utcnow()))
    db.session.commit()


def reset_for_retry(publication_id: int) -> bool:
    """An administrator's retry: a failed row goes back to queued (stage and progress
    cleared, the error kept until the next attempt starts). False, and nothing changed,
    when the row is not failed (a second click). Commits or rolls back."""
    changed = _run(update(Publication)
                   .where(Publication.id == publication_id, Publication.status == PublicationStatus.FAILED)
                   .values(status=PublicationStatus.QUEUED, stage=None, progress=0, updated_at=utcnow())) == 1
    if changed:
        db.session.commit()
    else:
        db.session.rollback()
    return changed


def claim_archive_no(publication_id: int, number: str, *, year: int, seq: int) -> bool:
    """Write the archive number onto a row that has none; False when it has one already
    (a concurrent run numbered it first). In the caller's transaction."""
    return _run(update(Publication)
                .where(Publication.id == publication_id, Publication.archive_no.is_(None))
                .values(archive_no=number, archive_year=year, archive_seq=seq, updated_at=utcnow())) == 1


def claim_doc_number(publication_id: int, number: str, *, year: int, seq: int) -> bool:
    """Write the town's 发文字号 onto a row that has none; False when it has one already
    (a concurrent run numbered it first). In the caller's transaction."""
    return _run(update(Publication)
                .where(Publication.id == publication_id, Publication.doc_number.is_(None))
                .values(doc_number=number, doc_year=year, doc_seq=seq, updated_at=utcnow())) == 1


def lock(publication_id: int) -> bool:
    """Take the row's write lock for the rest of the caller's transaction, changing
    nothing (SQLite: the database write lock; PostgreSQL: the row lock). False when the
    row does not exist."""
    return _run(update(Publication).where(Publication.id == publication_id)
                .values(updated_at=Publication.updated_at)) == 1


def lock_unless_ready(publication_id: int) -> bool:
    """Take the row's write lock unless the row is ready (False then: a concurrent run
    finished first). In the caller's transaction."""
    return _run(_unless_ready(publication_id).values(updated_at=utcnow())) == 1


def mark_ready(publication_id: int, *, sha256: str, size: int, signer: str | None,
               signed_at: dt.datetime | None) -> None:
    """Signed and archived: ready, with the file's hash and size and the signature's
    signer and time. In the caller's transaction (it holds the row lock)."""
    _run(update(Publication).where(Publication.id == publication_id).values(
        status=PublicationStatus.READY, progress=PROGRESS[PublicationStage.DONE], stage=PublicationStage.DONE,
        error=None, file_sha256=sha256, file_size=size, signer=signer, signed_at=signed_at,
        updated_at=utcnow()))


def set_approval_form(publication_id: int, sha256: str) -> bool:
    """The signed approval form's SHA-256, onto a ready row that has none; False when the
    row is not ready or already names a form. In the caller's transaction (it holds the row lock)."""
    return _run(update(Publication).where(
        Publication.id == publication_id, Publication.status == PublicationStatus.READY,
        Publication.approval_sha256.is_(None)).values(approval_sha256=sha256)) == 1
