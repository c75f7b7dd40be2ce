"""The archive: signed PDFs stored by SHA-256, and the districts' archive numbers.

Files live at ``ARCHIVE_DIR/ab/abcdef….pdf``, written once (temporary file, fsync,
``os.replace``) and never overwritten: a name is the hash of its bytes, so an existing
file with that name already holds exactly those bytes.

Archive numbers (``示范区〔2026〕7号``) come from one ``ArchiveCounter`` row per district
and year, incremented with ``UPDATE … SET last_seq = last_seq + 1`` in the same
transaction that writes the number onto the publication
(:func:`pdf.publications.claim_archive_no`), under a condition that the publication has
none yet. A concurrent second allocation for the same publication is
rolled back with its increment, so numbers have no gap and no duplicate, on SQLite (one
writer at a time) and PostgreSQL (the counter row lock serialises the increments).

The town's 发文字号 (``青政〔2026〕3号``) is allocated the same way from one
``DocNumberCounter`` row per town and year (:func:`allocate_doc_number`), written onto the
publication by :func:`pdf.publications.claim_doc_number`: once per publication, stable on
retry, no gap.

Renewals (:mod:`pdf.ltv`, ``flask archive-renew``): a fresh document timestamp is an
incremental update, so the renewed file begins with the original's bytes. It is stored
beside the original as ``ab/<original sha>.r<n>.pdf`` (n = 1, 2, …), never overwriting:
the original's SHA-256 stays the archive's key, and :func:`current_path` finds the
newest renewal, which is what downloads serve.

Approval forms (审批单, :mod:`pdf.approval_form`) are archived the same way, by their
SHA-256, named by ``Publication.approval_sha256`` (:func:`archive_approval_form`), and renewed
like the reports.

Orphans: the job writes the file only at its last step, after the signed bytes exist in
memory, and it first drops a marker ``ARCHIVE_DIR/.pending/<publication id>-<sha>``. The
file write and the row update happen while the publication row is locked; if the process
dies between them, the marker names the file that no row references, and the next run
of that publication (or the sweeper) deletes both under the same lock.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from workflow.db import db
from workflow.errors import NotFound
from workflow.models import ArchiveCounter, DocNumberCounter, OrgUnit, Publication

from . import publications

log = logging.getLogger(__name__)

PENDING_DIR = ".pending"
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
ARCHIVE_NO_FORMAT = "{district}〔{year}〕{seq}号"
DOC_NUMBER_FORMAT = "{prefix}〔{year}〕{seq}号"  # the town's 发文字号: 青政〔2026〕3号


# ---------------------------------------------------------------- files


def path_for(archive_dir: str | os.PathLike, sha256: str) -> Path:
    """Where the file with this SHA-256 lives (the hash is checked: no path tricks)."""
    if not _SHA_RE.match(sha256 or ""):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return Path(archive_dir) / sha256[:2] / f"{sha256}.pdf"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def store(archive_dir: str | os.PathLike, data: bytes) -> tuple[str, Path]:
    """Write ``data`` under its SHA-256 unless that file exists; return (sha256, path)."""
    sha = hashlib.sha256(data).hexdigest()
    target = path_for(archive_dir, sha)
    if target.exists():
        return sha, target
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pdf", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o400)  # never rewritten; readable by the service's user only
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return sha, target


_RENEWAL_RE = re.compile(r"^[0-9a-f]{64}\.r(\d+)\.pdf$")


def _renewals(archive_dir: str | os.PathLike, sha256: str) -> list[tuple[int, Path]]:
    original = path_for(archive_dir, sha256)
    found = []
    for candidate in original.parent.glob(f"{sha256}.r*.pdf"):
        match = _RENEWAL_RE.match(candidate.name)
        if match:
            found.append((int(match.group(1)), candidate))
    return sorted(found)


def current_path(archive_dir: str | os.PathLike, sha256: str) -> Path:
    """The newest renewal of the archived file, else the original."""
    renewals = _renewals(archive_dir, sha256)
    return renewals[-1][1] if renewals else path_for(archive_dir, sha256)


def read_current(archive_dir: str | os.PathLike, sha256: str) -> bytes:
    """The newest renewal (checked to begin with the original's bytes), else the original."""
    path = current_path(archive_dir, sha256)
    data = path.read_bytes()
    size = path_for(archive_dir, sha256).stat().st_size
    if hashlib.sha256(data[:size]).hexdigest() != sha256:
        raise OSError(f"archived file {path.name} does not begin with the original {sha256}")
    return data


def store_renewal(archive_dir: str | os.PathLike, sha256: str, data: bytes) -> Path:
    """Store ``data``, a renewal of the archived file ``sha256`` that extends its newest
    version, as the next ``.r<n>.pdf`` beside it (written once, like the original)."""
    previous = read_current(archive_dir, sha256)
    if not data.startswith(previous) or len(data) == len(previous):
        raise ValueError(f"not a renewal of {sha256}: the newest version is not a prefix")
    renewals = _renewals(archive_dir, sha256)
    number = renewals[-1][0] + 1 if renewals else 1
    target = path_for(archive_dir, sha256).with_name(f"{sha256}.r{number}.pdf")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pdf", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.link(tmp, target)  # fails if a concurrent renewal took this number: never overwrites
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_dir(target.parent)
    return target


def read(archive_dir: str | os.PathLike, sha256: str) -> bytes:
    """The archived bytes, checked against their name (a damaged file raises)."""
    data = path_for(archive_dir, sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError(f"archived file {sha256} does not match its hash")
    return data


def _pending_dir(archive_dir: str | os.PathLike) -> Path:
    return Path(archive_dir) / PENDING_DIR


def _mark_pending(archive_dir: str | os.PathLike, publication_id: int, sha: str) -> Path:
    directory = _pending_dir(archive_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker = directory / f"{publication_id}-{sha}"
    marker.touch()
    _fsync_dir(directory)
    return marker


def _referenced(sha: str) -> bool:
    return db.session.scalar(select(Publication.id).where(
        or_(Publication.file_sha256 == sha, Publication.approval_sha256 == sha)).limit(1)) is not None


def _remove_unreferenced(archive_dir: str | os.PathLike, publication_id: int) -> int:
    """Inside the row lock: delete the files that this publication's pending markers name
    and that no publication references; drop the markers. Returns the files removed."""
    removed = 0
    for marker in sorted(_pending_dir(archive_dir).glob(f"{publication_id}-*")):
        sha = marker.name.split("-", 1)[1]
        if _SHA_RE.match(sha) and not _referenced(sha):
            target = path_for(archive_dir, sha)
            if target.exists():
                target.unlink()
                removed += 1
                log.warning("publication %s: removed orphan archive file %s", publication_id, target.name)
        marker.unlink(missing_ok=True)
    return removed


def recover_orphans(archive_dir: str | os.PathLike, publication_id: int | None = None) -> int:
    """Delete files left by runs that died between writing and recording them.

    With ``publication_id``, only that publication's; else every marker (the sweeper).
    Each publication's cleanup runs under its row lock, so it never races a live run that
    is between its file write and its commit. Returns the number of files removed."""
    directory = _pending_dir(archive_dir)
    if not directory.is_dir():
        return 0
    if publication_id is None:
        ids = sorted({int(m.name.split("-", 1)[0]) for m in directory.iterdir() if m.name.split("-", 1)[0].isdigit()})
    else:
        ids = [publication_id] if any(directory.glob(f"{publication_id}-*")) else []
    removed = 0
    for pid in ids:
        db.session.commit()  # start from a fresh transaction
        try:
            # Without a row (deleted) there is nothing to lock and nothing to keep.
            publications.lock(pid)
            removed += _remove_unreferenced(archive_dir, pid)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    return removed


@dataclass
class Archived:
    sha256: str
    path: Path
    size: int
    won: bool  # False: another run of the same publication had recorded its file first


def archive_publication(archive_dir: str | os.PathLike, publication_id: int, data: bytes, *,
                        signer: str | None, signed_at: dt.datetime | None) -> Archived:
    """Store the signed bytes and mark the publication ready, once.

    Under the publication's row lock: if it is already ready (a concurrent run finished
    first), nothing is written and ``won`` is False; else marker, file and row update,
    commit, marker removed. On any failure the transaction is rolled back and the file
    removed (unless some publication references it); a process killed in between leaves
    the marker for :func:`recover_orphans`."""
    sha = hashlib.sha256(data).hexdigest()
    db.session.commit()
    try:
        if not publications.lock_unless_ready(publication_id):
            db.session.rollback()
            current = db.session.get(Publication, publication_id, populate_existing=True)
            if current is None or not current.file_sha256:
                raise NotFound("publication_vanished", publication_id=publication_id)
            return Archived(current.file_sha256, path_for(archive_dir, current.file_sha256),
                            current.file_size or 0, won=False)
    except BaseException:
        db.session.rollback()
        raise

    def record() -> None:
        publications.mark_ready(publication_id, sha256=sha, size=len(data), signer=signer, signed_at=signed_at)

    return _store_and_record(archive_dir, publication_id, data, sha, record)


def archive_approval_form(archive_dir: str | os.PathLike, publication_id: int, data: bytes) -> Archived:
    """Store a publication's signed approval form (审批单) and record its hash, once.

    Like :func:`archive_publication`, under the publication's row lock: when the row
    already names a form (a concurrent or earlier run made it), nothing is written and
    ``won`` is False; else marker, file, ``approval_sha256``, commit, marker removed."""
    sha = hashlib.sha256(data).hexdigest()
    db.session.commit()
    try:
        if not publications.lock(publication_id):
            raise NotFound("publication_vanished", publication_id=publication_id)
        current = db.session.scalar(select(Publication.approval_sha256).where(Publication.id == publication_id))
        if current:
            db.session.rollback()
            return Archived(current, path_for(archive_dir, current), 0, won=False)
    except BaseException:
        db.session.rollback()
        raise

    def record() -> None:
        if not publications.set_approval_form(publication_id, sha):
            raise NotFound("publication_vanished", publication_id=publication_id)

    return _store_and_record(archive_dir, publication_id, data, sha, record)


def _store_and_record(archive_dir: str | os.PathLike, publication_id: int, data: bytes, sha: str,
                      record: Callable[[], None]) -> Archived:
    """The second half of :func:`archive_publication` and :func:`archive_approval_form`, in
    the transaction that holds the publication's row lock: marker, file, ``record()`` (the
    row update), commit, marker removed. On any failure the transaction is rolled back and
    the file removed (unless some publication references it); a process killed in between
    leaves the marker for :func:`recover_orphans`."""
    marker: Path | None = None
    stored: Path | None = None
    try:
        marker = _mark_pending(archive_dir, publication_id, sha)
        _, stored = store(archive_dir, data)
        record()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored is not None and not _referenced(sha):
            stored.unlink(missing_ok=True)
        if marker is not None:
            marker.unlink(missing_ok=True)
        raise
    marker.unlink(missing_ok=True)
    return Archived(sha, stored, len(data), won=True)


# ---------------------------------------------------------------- archive numbers


def format_archive_no(district_name: str, year: int, seq: int) -> str:
    return ARCHIVE_NO_FORMAT.format(district=district_name, year=year, seq=seq)


def approval_year(publication: Publication, timezone: str = "Asia/Shanghai") -> int:
    """The year of approval in the district's time zone (an approval at 20:00 UTC on
    31 December is already the next year in Beijing time)."""
    created = publication.created_at.replace(tzinfo=dt.UTC)
    return created.astimezone(ZoneInfo(timezone)).year


def _next_seq(counter: type[ArchiveCounter] | type[DocNumberCounter], owner: str, owner_id: int, year: int) -> int:
    """The next number of ``counter``'s row for (``owner`` = ``owner_id``, ``year``), the row
    made first if missing (``INSERT … ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL, the
    databases Chengbao runs on), then incremented in the caller's transaction: the row stays
    locked until it commits or rolls back, so numbers have no gaps and no repeats."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(counter).values({owner: owner_id, "year": year, "last_seq": 0})
                       .on_conflict_do_nothing(index_elements=[owner, "year"]))
    column = getattr(counter, owner)
    return db.session.execute(
        update(counter)
        .where(column == owner_id, counter.year == year)
        .values(last_seq=counter.last_seq + 1)
        .returning(counter.last_seq)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def allocate_archive_no(publication_id: int, *, year: int | None = None,
                        timezone: str = "Asia/Shanghai") -> str:
    """The publication's archive number, allocated on first call and stored; later calls
    (retries, a concurrent run) return the stored one. Commits."""
    db.session.commit()
    pub = db.session.get(Publication, publication_id, populate_existing=True)
    if pub is None:
        raise NotFound("publication_id", publication_id=publication_id)
    if pub.archive_no:
        return pub.archive_no
    district = db.session.get_one(OrgUnit, pub.district_id)
    year = year or approval_year(pub, timezone)
    try:
        seq = _next_seq(ArchiveCounter, "district_id", pub.district_id, year)
        number = format_archive_no(district.name, year, seq)
        if not publications.claim_archive_no(publication_id, number, year=year, seq=seq):
            # Another run numbered this publication first: undo our increment (no gap).
            db.session.rollback()
            numbered = db.session.get_one(Publication, publication_id, populate_existing=True).archive_no
            assert numbered is not None  # that is why the claim failed
            return numbered
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return number


def format_doc_number(prefix: str, year: int, seq: int) -> str:
    return DOC_NUMBER_FORMAT.format(prefix=prefix, year=year, seq=seq)


def allocate_doc_number(publication_id: int, *, town_id: int, year: int) -> str:
    """The publication's 发文字号 from the town's counter for ``year`` (the year of the
    town's approval, its 成文日期), allocated on first call and stored; later calls (retries,
    a concurrent run) return the stored one. Commits. Like :func:`allocate_archive_no`: the
    increment and the claim share a transaction, a lost claim rolls the increment back."""
    db.session.commit()
    pub = db.session.get(Publication, publication_id, populate_existing=True)
    if pub is None:
        raise NotFound("publication_id", publication_id=publication_id)
    if pub.doc_number:
        return pub.doc_number
    town = db.session.get_one(OrgUnit, town_id)
    try:
        seq = _next_seq(DocNumberCounter, "org_unit_id", town_id, year)
        number = format_doc_number(town.doc_prefix_or_default, year, seq)
        if not publications.claim_doc_number(publication_id, number, year=year, seq=seq):
            db.session.rollback()  # another run numbered it first: our increment is undone
            numbered = db.session.get_one(Publication, publication_id, populate_existing=True).doc_number
            assert numbered is not None  # that is why the claim failed
            return numbered
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return number
