"""The audit log: one hash-chained event per action, and the check of the chain."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from .content import canonical_json
from .db import db
from .models import AuditEvent, Report, User, utcnow

GENESIS = "0" * 64


def event_hash(e: AuditEvent) -> str:
    payload = [
        e.report_id, e.seq, e.actor_id, e.action, e.from_state, e.to_state, e.version_number,
        e.content_sha256, e.comment or "", e.created_at.isoformat(timespec="microseconds"), e.prev_hash,
    ]
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def append(report: Report, actor: User, action: str, from_state: str | None, to_state: str,
           version_number: int, content_sha256: str, comment: str | None) -> AuditEvent:
    """Append an event in the caller's transaction. Callers hold the report's row (the
    conditional UPDATE came first), so no one else appends to this chain meanwhile; the
    unique (report_id, seq) constraint is the backstop."""
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
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event_hash(event)
    db.session.add(event)
    return event


@dataclass
class ChainProblem:
    report_id: int
    seq: int
    message: str


def verify_chains(report_ids: list[int] | None = None) -> tuple[int, list[ChainProblem]]:
    """Recompute every chain (or the given reports'). Returns (events checked, problems)."""
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
            problems.append(ChainProblem(e.report_id, e.seq, f"expected seq {expected_seq}, found {e.seq}"))
        if e.prev_hash != prev:
            problems.append(ChainProblem(e.report_id, e.seq, "prev_hash does not match the previous event"))
        if event_hash(e) != e.hash:
            problems.append(ChainProblem(e.report_id, e.seq, "hash does not match the event's content"))
        prev, expected_seq = e.hash, e.seq + 1
    return checked, problems
