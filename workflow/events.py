"""Domain events: the outbox.

Every transition, comment, cycle opening and reminder calls ``emit`` inside the transaction
that makes the change, so the event exists exactly when the change does. After commit a
worker delivers each event to its subscribers (the publication job, notifications); the
domain never imports them. Delivery state lives in the delivery tables, not here.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Model, db
from .models import utcnow

# The event kinds (CONTRACT.md, "A notification … event one of").
REPORT_SUBMITTED = "report_submitted"
REPORT_APPROVED = "report_approved"  # by the town: the report goes to the district
REPORT_RETURNED = "report_returned"
REPORT_PUBLISHED = "report_published"
COMMENT_ADDED = "comment_added"
CYCLE_OPENED = "cycle_opened"
CYCLE_DUE_SOON = "cycle_due_soon"
CYCLE_OVERDUE = "cycle_overdue"
REMINDER = "reminder"
KINDS: tuple[str, ...] = (REPORT_SUBMITTED, REPORT_APPROVED, REPORT_RETURNED, REPORT_PUBLISHED, COMMENT_ADDED,
                          CYCLE_OPENED, CYCLE_DUE_SOON, CYCLE_OVERDUE, REMINDER)


class OutboxEvent(Model):
    """One domain event, written in the same transaction as the change it records."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    cycle_id: Mapped[int | None] = mapped_column(index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Whatever the subscribers need that the rows above do not say (a return's reason,
    # the towns a reminder is for, the comment id …): plain JSON values.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set once every subscriber has taken the event (its deliveries exist); None = pending.
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_outbox_event_pending", "dispatched_at", "id"),)


def emit(kind: str, *, report_id: int | None = None, cycle_id: int | None = None,
         org_unit_id: int | None = None, actor_id: int | None = None, **payload: Any) -> OutboxEvent:
    """Record an event in the current transaction (the caller commits it with its change)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = OutboxEvent(kind=kind, report_id=report_id, cycle_id=cycle_id, org_unit_id=org_unit_id,
                        actor_id=actor_id, payload=payload)
    db.session.add(event)
    return event
