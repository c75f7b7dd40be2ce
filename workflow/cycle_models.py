"""The tables of reporting cycles (报送任务): the cycle, the towns it expects, its reminders
(催办) and its audit log. A report joins a cycle through ``Report.cycle_id``.

Nothing here is ever deleted: a cycle is closed, not removed, once towns report into it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Model
from .models import OrgUnit, User, utcnow

OPEN, CLOSED = "open", "closed"
CYCLE_STATES: tuple[str, ...] = (OPEN, CLOSED)

# Reminder kinds: sent by a person, or by the tick N days before the due date, on the first
# overdue day, and again (with the town reviewers) when a reminded town stays silent.
MANUAL, DUE_SOON, OVERDUE, ESCALATION = "manual", "due_soon", "overdue", "escalation"
REMINDER_KINDS: tuple[str, ...] = (MANUAL, DUE_SOON, OVERDUE, ESCALATION)


class Cycle(Model):
    """"Every town submits its 2027 annual plan by 15 January": one district's call for reports."""

    __tablename__ = "cycle"
    __table_args__ = (Index("ix_cycle_district_year", "district_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[dt.date] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    # The outline every town starts from (headings to fill), or None.
    template: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    # Touched by every write that must be serialised per cycle (reminders, the tick):
    # the UPDATE of this row is the lock, on SQLite and PostgreSQL alike.
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    district: Mapped[OrgUnit] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship()


class CycleTown(Model):
    """A town the cycle expects a report from (the denominator of the reporting rate)."""

    __tablename__ = "cycle_town"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Reminder(Model):
    """One 催办 of one town in one cycle. ``dedupe_key`` is set for the automatic kinds, so a
    tick that runs twice (or two ticks at once) records each of them exactly once."""

    __tablename__ = "cycle_reminder"
    __table_args__ = (Index("ix_cycle_reminder_cycle_town", "cycle_id", "org_unit_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(16))
    escalate: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)


class CycleAuditEvent(Model):
    """Who did what to a cycle (open, close, reopen, towns changed, reminders sent): an
    append-only log, written in the transaction of the change. (Reports keep their own
    hash-chained log; a cycle's log is a plain one.)"""

    __tablename__ = "cycle_audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")
