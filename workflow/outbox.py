"""Delivering the outbox: one ``Delivery`` row per event × subscriber × recipient × channel.

``workflow.events.emit`` writes an event in the transaction of the change. After commit a
worker runs :func:`dispatch`:

1. **plan** — each pending event is claimed (``dispatched_at`` set by a conditional UPDATE)
   and every registered subscriber says whom it goes to (:class:`Target`); the delivery
   rows are inserted in that same transaction. Their ``key`` (event × subscriber × channel
   × recipient) is UNIQUE: a second worker, a retry or a rerun cannot plan a delivery twice.
2. **send** — each pending, due delivery is sent and marked in its own transaction(s).

The subscribers (notifications, the publication job) are registered by the application
(``notify.init_app``): the domain imports neither ``pdf/`` nor ``web/``.

How each kind of channel survives a worker killed mid-delivery (SIGKILL, a machine lost):

- ``transactional`` (in-app): the notification row and the delivery's ``sent`` mark are
  one transaction. Exactly once.
- ``idempotent`` (the publication job): the target ignores a repeat (one RQ job id per
  approved version), so a delivery whose worker died is simply sent again. At least once.
- ``at_most_once`` (e-mail, 企业微信, 钉钉, webhooks): the row is claimed (``sending`` with a
  lease and a fencing ``attempts`` number, committed) *before* anything leaves, and marked
  ``sent`` after the receiver accepted it. A worker that dies between the two leaves a row
  in ``sending``: we cannot know whether the receiver got it, so when the lease expires the
  row turns ``failed`` with "outcome unknown" and is **not** resent by itself — an admin
  sees it and may retry it (audited). We chose at-most-once for that window (a few
  seconds at most per delivery) because a duplicated 催办 in a group chat or a mailbox is
  a visible harm, while the in-app notification of the same event is already exactly
  once. Failures where the receiver certainly did not take the message (connection
  refused, an HTTP or SMTP error answer, a robot's errcode) are retried automatically with
  growing intervals, up to ``max_attempts``.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ForeignKey, Index, String, Text, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .db import Model, db, rowcount
from .events import OutboxEvent
from .models import utcnow

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES: tuple[str, ...] = (PENDING, SENDING, SENT, FAILED)

TRANSACTIONAL, IDEMPOTENT, AT_MOST_ONCE = "transactional", "idempotent", "at_most_once"

# The last_error of a delivery whose worker died while sending (see the module docstring).
OUTCOME_UNKNOWN = "outcome unknown: the worker stopped while sending; not resent automatically"


class Delivery(Model):
    """One event for one recipient on one channel, and where its delivery stands."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id"), index=True)
    subscriber: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("notification_channel.id"))
    # The idempotency key: event × subscriber × channel × recipient.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[dt.datetime | None] = mapped_column()
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()


@dataclass(frozen=True)
class Target:
    """Whom a subscriber sends an event to: a user or a configured channel (or neither, for
    a subscriber that acts rather than sends, like the publication job)."""

    channel: str
    user_id: int | None = None
    channel_id: int | None = None

    def key(self, event_id: int, subscriber: str) -> str:
        who = f"u{self.user_id}" if self.user_id else f"c{self.channel_id}" if self.channel_id else "-"
        return f"e{event_id}:{subscriber}:{self.channel}:{who}"


class Undelivered(Exception):
    """The receiver certainly did not take the message (refused, answered an error): safe to
    try again. Any other exception from ``send`` means the outcome is unknown."""


class Subscriber(Protocol):
    name: str

    def targets(self, event: OutboxEvent) -> Iterable[Target]:
        """Whom the event goes to (an empty list: not for this subscriber)."""

    def mode(self, channel: str) -> str:
        """``TRANSACTIONAL``, ``IDEMPOTENT`` or ``AT_MOST_ONCE`` for this channel."""

    def send(self, delivery: Delivery, event: OutboxEvent) -> None:
        """Send one delivery. A transactional channel only writes rows in the current
        session (the caller commits them with the ``sent`` mark)."""


@dataclass
class Settings:
    lease: dt.timedelta = dt.timedelta(seconds=120)
    retry_intervals: tuple[float, ...] = (10, 60, 300, 1800)

    @property
    def max_attempts(self) -> int:
        return len(self.retry_intervals) + 1


# Filled by the application (``notify.init_app``), keyed by subscriber name.
SUBSCRIBERS: dict[str, Subscriber] = {}


def register(subscriber: Subscriber) -> None:
    SUBSCRIBERS[subscriber.name] = subscriber


def _mode(delivery: Delivery) -> str:
    subscriber = SUBSCRIBERS.get(delivery.subscriber)
    return subscriber.mode(delivery.channel) if subscriber is not None else AT_MOST_ONCE


# ---------------------------------------------------------------- planning


def pending_event_ids(limit: int = 500) -> list[int]:
    return list(db.session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)).order_by(OutboxEvent.id).limit(limit)))


def plan_event(event_id: int) -> int | None:
    """Claim one pending event and insert its deliveries, in one transaction. Returns the
    number of deliveries planned (None when another worker had it already)."""
    claimed = db.session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event_id, OutboxEvent.dispatched_at.is_(None))
        .values(dispatched_at=utcnow()).execution_options(synchronize_session=False))
    if rowcount(claimed) != 1:
        db.session.rollback()
        return None
    try:
        event = db.session.get_one(OutboxEvent, event_id)
        planned: dict[str, dict[str, Any]] = {}
        for name, subscriber in SUBSCRIBERS.items():
            for target in subscriber.targets(event):
                key = target.key(event.id, name)
                planned.setdefault(key, {"event_id": event.id, "subscriber": name, "channel": target.channel,
                                         "user_id": target.user_id, "channel_id": target.channel_id, "key": key,
                                         "status": PENDING, "attempts": 0, "created_at": utcnow(),
                                         "updated_at": utcnow()})
        if planned:
            # The unique key is the backstop; the claim above already makes this the only planner.
            existing = set(db.session.scalars(select(Delivery.key).where(Delivery.event_id == event.id)))
            rows = [row for key, row in planned.items() if key not in existing]
            if rows:
                db.session.execute(Delivery.__table__.insert(), rows)
        db.session.commit()
    except Exception:
        db.session.rollback()  # the event stays pending: the next dispatch tries again
        raise
    return len(planned)


# ---------------------------------------------------------------- sending


def due_delivery_ids(limit: int = 500, after_id: int = 0) -> list[int]:
    now = utcnow()
    return list(db.session.scalars(
        select(Delivery.id).where(Delivery.status == PENDING, Delivery.id > after_id,
                                  or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
        .order_by(Delivery.id).limit(limit)))


def _claim_condition(delivery_id: int, now: dt.datetime):
    return (Delivery.id == delivery_id, Delivery.status == PENDING,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))


def deliver(delivery_id: int, settings: Settings | None = None) -> str | None:
    """Send one due delivery if it is still pending; returns its new status (None: not ours)."""
    settings = settings or Settings()
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.status != PENDING:
        db.session.rollback()
        return None
    subscriber = SUBSCRIBERS.get(delivery.subscriber)
    if subscriber is None:  # its subscriber is not installed in this process: leave it
        db.session.rollback()
        log.warning("delivery %s: no subscriber %r registered", delivery_id, delivery.subscriber)
        return None
    event = db.session.get_one(OutboxEvent, delivery.event_id)
    now = utcnow()
    mode = subscriber.mode(delivery.channel)
    if mode == TRANSACTIONAL:
        won = db.session.execute(
            update(Delivery).where(*_claim_condition(delivery_id, now))
            .values(status=SENT, attempts=Delivery.attempts + 1, sent_at=now, updated_at=now, last_error=None)
            .execution_options(synchronize_session=False))
        if rowcount(won) != 1:
            db.session.rollback()
            return None
        try:
            subscriber.send(delivery, event)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            return _failed(delivery_id, None, exc, settings, retry=True)
        return SENT

    # Claim before sending (committed), so that no other worker sends it meanwhile.
    won = db.session.execute(
        update(Delivery).where(*_claim_condition(delivery_id, now))
        .values(status=SENDING, attempts=Delivery.attempts + 1, lease_until=now + settings.lease, updated_at=now)
        .execution_options(synchronize_session=False))
    if rowcount(won) != 1:
        db.session.rollback()
        return None
    fence = delivery.attempts + 1
    db.session.commit()
    delivery = db.session.get_one(Delivery, delivery_id, populate_existing=True)
    event = db.session.get_one(OutboxEvent, delivery.event_id)
    try:
        subscriber.send(delivery, event)
    except Undelivered as exc:
        db.session.rollback()
        return _failed(delivery_id, fence, exc, settings, retry=True)
    except Exception as exc:  # the receiver may or may not have it
        db.session.rollback()
        return _failed(delivery_id, fence, exc, settings, retry=mode == IDEMPOTENT, unknown=mode != IDEMPOTENT)
    now = utcnow()
    db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.attempts == fence)
        .values(status=SENT, sent_at=now, updated_at=now, lease_until=None, last_error=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return SENT


def _failed(delivery_id: int, fence: int | None, exc: BaseException, settings: Settings, *, retry: bool,
            unknown: bool = False) -> str:
    delivery = db.session.get(Delivery, delivery_id, populate_existing=True)
    attempts = delivery.attempts if delivery is not None else 0
    message = f"{type(exc).__name__}: {exc}"[:2000]
    if unknown:
        message = f"outcome unknown ({message}); not resent automatically"[:2000]
    now = utcnow()
    if retry and attempts < settings.max_attempts:
        interval = settings.retry_intervals[min(attempts - 1, len(settings.retry_intervals) - 1)] if attempts else 0
        status, values = PENDING, {"next_attempt_at": now + dt.timedelta(seconds=float(interval))}
    else:
        status, values = FAILED, {}
    condition = [Delivery.id == delivery_id]
    if fence is not None:
        condition.append(Delivery.attempts == fence)
    db.session.execute(update(Delivery).where(*condition)
                       .values(status=status, last_error=message, lease_until=None, updated_at=now, **values)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    log.warning("delivery %s (attempt %s): %s%s", delivery_id, attempts, message,
                "; will retry" if status == PENDING else "; failed")
    return status


# ---------------------------------------------------------------- the dispatcher


@dataclass
class DispatchResult:
    planned_events: int = 0
    planned_deliveries: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    next_due_at: dt.datetime | None = None
    unfinished: bool = False  # stopped at max_seconds with work left

    def as_dict(self) -> dict[str, Any]:
        return {"planned_events": self.planned_events, "planned_deliveries": self.planned_deliveries,
                "sent": self.sent, "retrying": self.retrying, "failed": self.failed,
                "next_due_at": self.next_due_at.isoformat() if self.next_due_at else None}


def dispatch(settings: Settings | None = None, *, max_rounds: int = 1000, max_seconds: float | None = None
             ) -> DispatchResult:
    """Plan every pending event, then send every due delivery; repeat until nothing is left
    (events committed meanwhile are taken too). Safe to run in several workers at once."""
    settings = settings or Settings()
    result = DispatchResult()
    deadline = time.monotonic() + max_seconds if max_seconds else None
    for _ in range(max_rounds):
        if deadline is not None and time.monotonic() > deadline:
            result.unfinished = True
            break
        worked = False
        for event_id in pending_event_ids():
            try:
                n = plan_event(event_id)
            except Exception:
                log.exception("outbox event %s could not be planned; it stays pending", event_id)
                continue
            if n is not None:
                result.planned_events += 1
                result.planned_deliveries += n
                worked = True
        last = 0
        while True:
            ids = due_delivery_ids(after_id=last)
            if not ids:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
            for delivery_id in ids:
                status = deliver(delivery_id, settings)
                if status is not None:
                    worked = True
                    if status == SENT:
                        result.sent += 1
                    elif status == PENDING:
                        result.retrying += 1
                    else:
                        result.failed += 1
            last = ids[-1]
        if not worked:
            break
    result.next_due_at = db.session.scalar(select(func.min(Delivery.next_attempt_at)).where(Delivery.status == PENDING))
    db.session.commit()
    return result


def expire_leases() -> tuple[int, int]:
    """Deliveries left ``sending`` past their lease (their worker died): the idempotent ones
    go back to pending, the at-most-once ones turn failed ("outcome unknown"). Returns
    (requeued, failed)."""
    now = utcnow()
    rows = db.session.execute(
        select(Delivery.id, Delivery.subscriber, Delivery.channel, Delivery.attempts)
        .where(Delivery.status == SENDING, Delivery.lease_until < now)).all()
    requeued = failed = 0
    for row in rows:
        subscriber = SUBSCRIBERS.get(row.subscriber)
        idempotent = subscriber is not None and subscriber.mode(row.channel) == IDEMPOTENT
        values = ({"status": PENDING, "next_attempt_at": None} if idempotent
                  else {"status": FAILED, "last_error": OUTCOME_UNKNOWN})
        done = db.session.execute(
            update(Delivery).where(Delivery.id == row.id, Delivery.status == SENDING, Delivery.attempts == row.attempts)
            .values(lease_until=None, updated_at=now, **values).execution_options(synchronize_session=False))
        if rowcount(done) == 1:
            requeued, failed = (requeued + 1, failed) if idempotent else (requeued, failed + 1)
    db.session.commit()
    return requeued, failed


def backlog() -> dict[str, int]:
    """What waits: events never planned, deliveries due now, deliveries due later."""
    now = utcnow()
    events = db.session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.dispatched_at.is_(None))) or 0
    due = db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status == PENDING, or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))) or 0
    later = db.session.scalar(select(func.count(Delivery.id)).where(
        Delivery.status == PENDING, Delivery.next_attempt_at > now)) or 0
    db.session.commit()
    return {"events": events, "due": due, "later": later}


def retry(delivery_id: int) -> bool:
    """A failed delivery back to pending (the admin's retry; audited by the caller)."""
    now = utcnow()
    done = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == FAILED)
        .values(status=PENDING, next_attempt_at=None, updated_at=now).execution_options(synchronize_session=False))
    return rowcount(done) == 1
