"""The audit logs and their checks.

Three chains, each link a SHA-256 over its fields and the previous link:

- a report's chain (``AuditEvent.seq``, ``prev_hash``, ``hash``): its history;
- the global chain of every report event of the system (``AuditEvent.global_seq``,
  ``global_prev_hash``, ``global_hash``): deleting any event, a report's last one or all of
  them, leaves a gap in it;
- the admin audit chain (``AdminAudit.seq``, ``prev_hash``, ``hash``): grants, revokes and
  the other privileged actions outside a report's history.

The global and admin chains each have a head row (``AuditChainHead``) that every append
moves in its own transaction: an ``UPDATE … RETURNING`` that row-locks it on PostgreSQL and
takes SQLite's write lock, so concurrent appends stay one line. A rewrite recomputed with
:func:`event_hash` itself passes these checks; the signed checkpoints written outside the
database (``pdf/checkpoints.py``) catch it: they hold the heads as they were.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .content import canonical_json
from .db import Model, db
from .models import AdminAudit, AuditChainHead, AuditEvent, Publication, Report, ReportVersion, User, utcnow

GENESIS = "0" * 64
GLOBAL_CHAIN = "audit_event"  # AuditChainHead.name of the global chain of report events
ADMIN_CHAIN = "admin_audit"  # AuditChainHead.name of the admin audit chain


def _sha256(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def event_hash(e: AuditEvent) -> str:
    """The link of a report's chain: the event's fields and the previous event's hash."""
    return _sha256([
        e.report_id, e.seq, e.actor_id, e.action, e.from_state, e.to_state, e.version_number,
        e.content_sha256, e.comment or "", e.created_at.isoformat(timespec="microseconds"), e.prev_hash,
    ])


def global_hash(e: AuditEvent, event_link: str | None = None) -> str:
    """The link of the global chain: the event's global number, its report-chain hash (which
    covers its fields; ``event_link`` when given instead of the stored one) and the previous
    global link."""
    return _sha256([e.global_seq, e.hash if event_link is None else event_link, e.global_prev_hash])


def admin_hash(a: AdminAudit) -> str:
    """The link of the admin audit chain: the row's fields and the previous row's hash."""
    return _sha256([
        a.seq, a.actor_id, a.action, a.org_unit_id, a.target, a.detail or {},
        a.created_at.isoformat(timespec="microseconds"), a.prev_hash,
    ])


# ---------------------------------------------------------------- appending


def _last_link(chain: str) -> tuple[int, str]:
    """The last link of a chain as its rows say (a head row is made from it when missing)."""
    if chain == GLOBAL_CHAIN:
        row = db.session.execute(select(AuditEvent.global_seq, AuditEvent.global_hash)
                                 .order_by(AuditEvent.global_seq.desc()).limit(1)).first()
    else:
        row = db.session.execute(select(AdminAudit.seq, AdminAudit.hash)
                                 .order_by(AdminAudit.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _insert_head_if_missing(chain: str) -> None:
    """``INSERT … ON CONFLICT DO NOTHING`` of the chain's head (SQLite and PostgreSQL)."""
    seq, last = _last_link(chain)
    values = {"name": chain, "seq": seq, "hash": last, "updated_at": utcnow()}
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(AuditChainHead).values(**values).on_conflict_do_nothing(index_elements=["name"]))


def _advance_head(chain: str) -> tuple[int, str]:
    """Take the chain's next sequence number, and the hash of its last link, holding the head
    row until the caller's transaction ends (the next appender waits for it there)."""
    def bump():
        return db.session.execute(
            update(AuditChainHead).where(AuditChainHead.name == chain)
            .values(seq=AuditChainHead.seq + 1)
            .returning(AuditChainHead.seq, AuditChainHead.hash)
            .execution_options(synchronize_session=False)).first()

    row = bump()
    if row is None:
        _insert_head_if_missing(chain)
        row = bump()
    return row[0], row[1]


def _set_head(chain: str, seq: int, link: str) -> None:
    db.session.execute(update(AuditChainHead).where(AuditChainHead.name == chain, AuditChainHead.seq == seq)
                       .values(hash=link, updated_at=utcnow()).execution_options(synchronize_session=False))


def append(report: Report, actor: User, action: str, from_state: str | None, to_state: str,
           version_number: int, content_sha256: str, comment: str | None) -> AuditEvent:
    """Append an event in the caller's transaction, to the report's chain and the global one.
    Callers hold the report's row (the conditional UPDATE came first), so no one else appends
    to this report's chain meanwhile; the global head row serialises the global chain. The
    unique (report_id, seq) and global_seq constraints are the backstops."""
    global_seq, global_prev = _advance_head(GLOBAL_CHAIN)
    last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.report_id == report.id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    event = AuditEvent(
        report_id=report.id, seq=(last.seq + 1) if last else 1, actor_id=actor.id, action=action,
        from_state=from_state, to_state=to_state, version_number=version_number,
        content_sha256=content_sha256, comment=comment, created_at=utcnow(),
        prev_hash=last.hash if last else GENESIS, global_seq=global_seq, global_prev_hash=global_prev,
    )
    event.hash = event_hash(event)
    event.global_hash = global_hash(event)
    _set_head(GLOBAL_CHAIN, global_seq, event.global_hash)
    db.session.add(event)
    return event


def append_admin(actor: User | None, action: str, target: str, *, org_unit_id: int | None = None,
                 **detail: Any) -> AdminAudit:
    """Record a privileged action in the caller's transaction, as the next link of the admin
    audit chain (``actor`` None: the command line)."""
    seq, prev = _advance_head(ADMIN_CHAIN)
    row = AdminAudit(actor_id=actor.id if actor is not None else None, action=action, org_unit_id=org_unit_id,
                     target=target, detail=detail, created_at=utcnow(), seq=seq, prev_hash=prev)
    row.hash = admin_hash(row)
    _set_head(ADMIN_CHAIN, seq, row.hash)
    db.session.add(row)
    return row


def rechain_global() -> None:
    """Recompute every global link from the events' report-chain hashes, in global order.

    Only for the demo seed, which moves its freshly made history back in time (so a
    verifier is not fooled by it: the first signed checkpoint comes after)."""
    previous = GENESIS
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.global_seq)))
    for e in events:
        e.global_prev_hash = previous
        e.global_hash = previous = global_hash(e)
    if events:
        db.session.execute(update(AuditChainHead).where(AuditChainHead.name == GLOBAL_CHAIN)
                           .values(seq=events[-1].global_seq, hash=previous))


def report_head(report_id: int) -> str | None:
    """The hash of a report's last event (printed in its signed PDF at publication)."""
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.report_id == report_id)
                             .order_by(AuditEvent.seq.desc()).limit(1))


# ---------------------------------------------------------------- heads, as checkpoints record them

# The tables whose row counts a checkpoint records (what was there then).
COUNTED: tuple[type[Model], ...] = (AuditEvent, AdminAudit, Report, ReportVersion, Publication)


def heads() -> dict[str, dict[str, Any]]:
    """Each chain's head as its rows say now: ``{chain: {"seq", "hash"}}``."""
    result = {}
    for chain in (GLOBAL_CHAIN, ADMIN_CHAIN):
        seq, link = _last_link(chain)
        result[chain] = {"seq": seq, "hash": link}
    return result


def counts() -> dict[str, int]:
    """Rows per audited table now."""
    return {m.__table__.name: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED}


def link_at(chain: str, seq: int) -> str | None:
    """The hash of a chain's link number ``seq`` now (None when that link is gone)."""
    if seq == 0:
        return GENESIS
    if chain == GLOBAL_CHAIN:
        return db.session.scalar(select(AuditEvent.global_hash).where(AuditEvent.global_seq == seq))
    return db.session.scalar(select(AdminAudit.hash).where(AdminAudit.seq == seq))


# ---------------------------------------------------------------- checking


@dataclass
class ChainProblem:
    """One thing wrong. ``report_id``/``seq`` place a report-chain problem (``seq`` 0: the
    report as a whole); ``where`` names any other place (a global link, an admin row)."""

    report_id: int | None
    seq: int | None
    message: str
    where: str = ""

    def __str__(self) -> str:
        place = self.where or f"report {self.report_id} event {self.seq}"
        return f"{place}: {self.message}"


def verify_chains(report_ids: list[int] | None = None) -> tuple[int, list[ChainProblem]]:
    """Recompute every report chain (or the given reports'). Returns (events checked, problems)."""
    query = select(AuditEvent).order_by(AuditEvent.report_id, AuditEvent.seq)
    if report_ids:
        query = query.where(AuditEvent.report_id.in_(report_ids))
    problems: list[ChainProblem] = []
    checked = 0
    current, prev, expected_seq = None, GENESIS, 1
    for e in db.session.scalars(query.execution_options(yield_per=1000)):
        if e.report_id != current:
            current, prev, expected_seq = e.report_id, GENESIS, 1
        checked += 1
        if e.seq != expected_seq:
            problems.append(ChainProblem(e.report_id, e.seq, f"expected seq {expected_seq}, found {e.seq}"
                                         f" (event id {e.id}): events deleted before it"))
        if e.prev_hash != prev:
            problems.append(ChainProblem(e.report_id, e.seq,
                                         f"prev_hash does not match the previous event (event id {e.id})"))
        if event_hash(e) != e.hash:
            problems.append(ChainProblem(e.report_id, e.seq,
                                         f"hash does not match the event's content (event id {e.id}): rewritten"))
        prev, expected_seq = e.hash, e.seq + 1
    return checked, problems


def verify_states() -> list[ChainProblem]:
    """Each report's state must be the one its last event led to; a report without events has
    lost its history. One query."""
    last_seq = (select(AuditEvent.report_id, func.max(AuditEvent.seq).label("seq"))
                .group_by(AuditEvent.report_id).subquery())
    rows = db.session.execute(
        select(Report.id, Report.state, last_seq.c.seq, AuditEvent.id, AuditEvent.to_state)
        .outerjoin(last_seq, last_seq.c.report_id == Report.id)
        .outerjoin(AuditEvent, (AuditEvent.report_id == Report.id) & (AuditEvent.seq == last_seq.c.seq))
        .order_by(Report.id)).all()
    problems = []
    for report_id, state, seq, event_id, to_state in rows:
        if seq is None:
            problems.append(ChainProblem(report_id, 0, f"has no audit event: its history was deleted (state {state})"))
        elif state != to_state:
            problems.append(ChainProblem(report_id, 0, f"state is {state} but its last event (seq {seq}, id {event_id})"
                                                       f" led to {to_state}: state set outside the workflow, or later"
                                                       " events deleted"))
    return problems


def _gap(what: str, after: tuple[int, int] | None, before: tuple[int, int], expected: int) -> str:
    missing = f"{expected}" if before[0] - 1 == expected else f"{expected}–{before[0] - 1}"
    around = f"between id {after[1]} and id {before[1]}" if after else f"before id {before[1]}"
    return f"{what} {missing} missing ({around}): deleted"


def _walk(chain: str, rows: Iterable[tuple[int, int, str, str, str]], label: str) -> Iterator[ChainProblem]:
    """Check one sequence of links: (seq, id, prev, stored hash, recomputed hash) in seq order,
    then the chain's head row against the last link."""
    expected, prev, last = 1, GENESIS, None
    for seq, row_id, prev_link, stored, recomputed in rows:
        where = f"{label} id {row_id} (seq {seq})"
        if seq != expected:
            yield ChainProblem(None, None, _gap(f"{label} seq", last, (seq, row_id), expected), where)
        if prev_link != prev:
            yield ChainProblem(None, None, "its previous-link hash does not match the link before it", where)
        if recomputed != stored:
            yield ChainProblem(None, None, "hash does not match its content: rewritten", where)
        expected, prev, last = seq + 1, stored, (seq, row_id)
    head = db.session.get(AuditChainHead, chain)
    if head is None:
        if last is not None:
            yield ChainProblem(None, None, "the chain's head row is missing", f"{label} head")
    elif head.seq != (last[0] if last else 0):
        yield ChainProblem(None, None, f"the head is at seq {head.seq} but the last link is seq "
                                       f"{last[0] if last else 0}: links after it deleted", f"{label} head")
    elif head.hash != prev:
        yield ChainProblem(None, None, "the head's hash differs from the last link's: rewritten", f"{label} head")


def verify_global() -> tuple[int, list[ChainProblem]]:
    """The global chain of report events: no gap, every link intact, the head at its end."""
    checked = 0

    def rows() -> Iterator[tuple[int, int, str, str, str]]:
        nonlocal checked
        query = select(AuditEvent).order_by(AuditEvent.global_seq).execution_options(yield_per=1000)
        for e in db.session.scalars(query):
            checked += 1
            # Recomputed from the event's fields, not its stored report-chain hash: an edited
            # event breaks both chains.
            yield e.global_seq, e.id, e.global_prev_hash, e.global_hash, global_hash(e, event_hash(e))

    problems = list(_walk(GLOBAL_CHAIN, rows(), "global event"))
    return checked, problems


def verify_admin() -> tuple[int, list[ChainProblem]]:
    """The admin audit chain: no gap, every row intact, the head at its end."""
    checked = 0

    def rows() -> Iterator[tuple[int, int, str, str, str]]:
        nonlocal checked
        for a in db.session.scalars(select(AdminAudit).order_by(AdminAudit.seq).execution_options(yield_per=1000)):
            checked += 1
            yield a.seq, a.id, a.prev_hash, a.hash, admin_hash(a)

    problems = list(_walk(ADMIN_CHAIN, rows(), "admin audit"))
    return checked, problems


@dataclass
class Verdict:
    """Everything ``verify-audit`` checks in the database (the checkpoints are checked by ``pdf``)."""

    events: int = 0
    admin_rows: int = 0
    problems: list[ChainProblem] = field(default_factory=list)


def verify_all() -> Verdict:
    """Every report chain, every report's state against its last event, the global chain and
    the admin audit chain."""
    events, problems = verify_chains()
    problems += verify_states()
    _, global_problems = verify_global()
    admin_rows, admin_problems = verify_admin()
    return Verdict(events, admin_rows, problems + global_problems + admin_problems)
