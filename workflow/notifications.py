"""Notifications: who hears of an event, the in-app notifications, the group channels of an
org unit, the users' e-mail settings, and the admins' view of deliveries.

Recipients are computed from the workflow table and the positions, never named:

- report_submitted, report_approved: the roles the table makes wait on the new state (town
  reviewers, then district reviewers) at the report's town or above;
- report_returned: the roles that act on a draft (the town's authors), and the submitter; the
  reason is in the payload;
- report_published: the holders of the town-level roles (authors and town reviewers) of the town;
- comment_added: a reviewer's comment: the town's authors; anyone else's: the reviewers of the
  report's stage;
- cycle_opened, cycle_due_soon, cycle_overdue, reminder: the authors of the towns in
  ``payload["org_unit_ids"]``, and their town reviewers when ``payload["escalate"]``.

The actor of an event never hears of their own action. Group channels (企业微信, 钉钉,
webhooks) are configured per org unit; an event reaches the channels of the report's town
and of its district (a cycle event: of the towns concerned and of the cycle's district).
"""
from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import JSON, ForeignKey, Index, Select, String, Text, bindparam, func, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import audit as audit_log
from . import events as ev
from .db import Model, db, rowcount
from .errors import BadInput, Conflict, Forbidden, Invalid, NotFound
from .events import OutboxEvent
from .models import AdminAudit, Comment, OrgUnit, Position, Report, User, utcnow
from .publishing import district_of
from .scope import can_see_unit, is_admin_for, unit_filter
from .table import ADMIN, AUTHOR, DRAFT, EDIT_ROLE, ROLE_UNIT_KINDS, TOWN_KINDS, TOWN_REVIEWER, transitions_from

CHANNEL_KINDS: tuple[str, ...] = ("wecom", "dingtalk", "webhook")
# An e-mail address: no blank, control character, quote or angle bracket. Written with
# explicit ranges (not ``\s``, whose meaning differs between regex engines) so that the
# API's OpenAPI pattern built from it (``EMAIL_PATTERN``) accepts exactly what we accept.
_EMAIL_CHAR = r'[^@<>"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]'
EMAIL_RE = re.compile(rf"^{_EMAIL_CHAR}+@{_EMAIL_CHAR}+\.{_EMAIL_CHAR}+$")
BLANKS = " \t\n\r\f\v"  # around an address, ignored
EMAIL_PATTERN = rf"^[ \t\n\r\f\v]*({EMAIL_RE.pattern[1:-1]})?[ \t\n\r\f\v]*$"
MAX_URL = 1000
# A channel's address starts http(s):// and a host character; a secret has no blank
# (``str.isspace``). Explicit ranges, like the e-mail's, for the API's OpenAPI patterns.
CHANNEL_URL_RE = re.compile(r"^https?://[^/\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
CHANNEL_URL_PATTERN = rf"^[ \t\n\r\f\v]*{CHANNEL_URL_RE.pattern[1:]}"
SECRET_PATTERN = r"^[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
MAX_SECRET = 200


class Notification(Model):
    """One in-app notification of one user (written once per delivery: exactly once)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    cycle_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column()


class Channel(Model):
    """A group robot (企业微信, 钉钉) or a JSON webhook of an org unit. Deleted channels are
    kept (``deleted_at``) so that their deliveries still say where they went."""

    __tablename__ = "notification_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(MAX_URL))
    secret: Mapped[str | None] = mapped_column(String(MAX_SECRET))
    # The event kinds posted here; None: all of them.
    events: Mapped[list[str] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column()

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


def audit(actor: User | None, action: str, target: str, *, org_unit_id: int | None = None, **detail: Any) -> None:
    """Record a privileged action in the caller's transaction (a link of the admin audit chain)."""
    audit_log.append_admin(actor, action, target, org_unit_id=org_unit_id, **detail)


# ---------------------------------------------------------------- recipients


def waiting_roles(state: str) -> set[str]:
    """The roles the table makes act next in ``state`` (a duty, not a possibility)."""
    return {t.role for t in transitions_from(state) if t.waits_on_role}


def town_roles() -> set[str]:
    """The roles held at a town (authors and town reviewers)."""
    return {role for role, kinds in ROLE_UNIT_KINDS.items() if set(kinds) <= set(TOWN_KINDS)}


def reviewer_roles(state: str) -> set[str]:
    """Who reviews a report in ``state``: the roles that may return it there; for a draft,
    those of the state its submission leads to."""
    roles = {t.role for t in transitions_from(state) if t.needs_comment}
    if not roles:
        for t in transitions_from(state):
            if t.role == EDIT_ROLE and t.waits_on_role:
                roles |= {r.role for r in transitions_from(t.target) if r.needs_comment}
    return roles


def _ancestor_ids(units: Sequence[OrgUnit]) -> set[int]:
    return {int(x) for u in units for x in u.path.strip("/").split("/") if x}


def holders(units: Sequence[OrgUnit], roles: set[str]) -> list[User]:
    """Active users holding one of ``roles`` at one of ``units`` or above it (one query)."""
    if not units or not roles:
        return []
    return list(db.session.scalars(
        select(User).join(Position, Position.user_id == User.id)
        .where(Position.org_unit_id.in_(_ancestor_ids(units)), Position.role.in_(sorted(roles)), User.active.is_(True))
        .distinct().order_by(User.id)))


def _units(ids: Any) -> list[OrgUnit]:
    clean = sorted({int(i) for i in (ids or []) if isinstance(i, int) or (isinstance(i, str) and i.isdigit())})
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(clean)))) if clean else []


def recipients(event: OutboxEvent) -> list[User]:
    """The users who hear of ``event`` (never its actor)."""
    payload = event.payload or {}
    users: list[User] = []
    if event.kind in (ev.CYCLE_OPENED, ev.CYCLE_DUE_SOON, ev.CYCLE_OVERDUE, ev.REMINDER):
        roles = {AUTHOR} | ({TOWN_REVIEWER} if payload.get("escalate") else set())
        users = holders(_units(payload.get("org_unit_ids")), roles)
    else:
        report = db.session.get(Report, event.report_id) if event.report_id else None
        if report is None:
            return []
        town = [report.org_unit]
        if event.kind in (ev.REPORT_SUBMITTED, ev.REPORT_APPROVED):
            users = holders(town, waiting_roles(payload.get("to_state") or report.state))
        elif event.kind == ev.REPORT_RETURNED:
            users = holders(town, waiting_roles(DRAFT))
            submitter_id = payload.get("submitter_id")
            if submitter_id and submitter_id not in {u.id for u in users}:
                submitter = db.session.get(User, submitter_id)
                if submitter is not None and submitter.active:
                    users.append(submitter)
        elif event.kind == ev.REPORT_PUBLISHED:
            users = holders(town, town_roles())
        elif event.kind == ev.COMMENT_ADDED:
            roles = {EDIT_ROLE} if payload.get("by_reviewer") else reviewer_roles(payload.get("state") or report.state)
            users = holders(town, roles)
    return [u for u in users if u.id != event.actor_id]


def channel_units(event: OutboxEvent) -> list[int]:
    """The org units whose channels receive ``event``: the report's town and its district;
    for a cycle event, the towns concerned and the unit the event names (the cycle's district)."""
    payload = event.payload or {}
    if event.report_id:
        report = db.session.get(Report, event.report_id)
        if report is None:
            return []
        district = district_of(report.org_unit)
        return sorted({report.org_unit_id, district.id})
    ids = [int(i) for i in (payload.get("org_unit_ids") or []) if isinstance(i, int)]
    if event.org_unit_id:
        ids.append(event.org_unit_id)
    return sorted(set(ids))


def channels_for(event: OutboxEvent) -> list[Channel]:
    units = channel_units(event)
    if not units:
        return []
    found = db.session.scalars(select(Channel).where(Channel.org_unit_id.in_(units), Channel.deleted_at.is_(None))
                               .order_by(Channel.id))
    return [c for c in found if not c.events or event.kind in c.events]


# ---------------------------------------------------------------- in-app notifications


def add(*, user_id: int, delivery_id: int | None, event: OutboxEvent, title: str, body: str, url: str) -> Notification:
    """Write a notification in the caller's transaction (the delivery's ``sent`` mark)."""
    notification = Notification(user_id=user_id, delivery_id=delivery_id, event=event.kind, title=title[:300],
                                body=body, url=url[:500], report_id=event.report_id, cycle_id=event.cycle_id)
    db.session.add(notification)
    return notification


def notifications_of(actor: User, *, unread: bool = False, limit: int = 50) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == actor.id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(actor: User) -> int:
    """(Every page's bell asks: the statement is built once, on the table's own columns, which
    run without the ORM's layer: a third of the time.)"""
    return db.session.scalar(_unread_count(), {"user_id": actor.id}) or 0


@functools.cache
def _unread_count() -> Select:
    table = Notification.__table__.c
    return select(func.count(table.id)).where(table.user_id == bindparam("user_id"), table.read_at.is_(None))


def _own(actor: User, notification_id: Any) -> Notification:
    try:
        nid = int(notification_id)
    except (TypeError, ValueError):
        raise NotFound("notification") from None
    notification = db.session.get(Notification, nid) if 0 < nid < 2**62 else None
    if notification is None or notification.user_id != actor.id:
        raise NotFound("notification")
    return notification


def mark_read(actor: User, notification_id: Any) -> Notification:
    notification = _own(actor, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(actor: User) -> int:
    done = db.session.execute(update(Notification).where(Notification.user_id == actor.id,
                                                         Notification.read_at.is_(None))
                              .values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return rowcount(done)


# ---------------------------------------------------------------- e-mail settings


def clean_email(value: Any) -> str | None:
    """The address without the blanks around it; None for none (null or blank)."""
    if value is None or (isinstance(value, str) and not value.strip(BLANKS)):
        return None
    if not isinstance(value, str) or len(value.strip(BLANKS)) > 254 or not EMAIL_RE.fullmatch(value.strip(BLANKS)):
        raise BadInput("email")
    return value.strip(BLANKS)


def update_settings(actor: User, *, email: Any = ..., email_notifications: Any = ...) -> User:
    """The user's own notification settings: an e-mail address and whether to use it."""
    if email is not ...:
        actor.email = clean_email(email)
    if email_notifications is not ...:
        if not isinstance(email_notifications, bool):
            raise BadInput("email_notifications")
        actor.email_notifications = email_notifications
    db.session.commit()
    return actor


def set_user_email(actor: User, user_id: Any, email: Any, *, scope: Sequence[User]) -> User:
    """An admin sets a user's e-mail address; ``scope`` is the users the admin manages."""
    target = next((u for u in scope if str(u.id) == str(user_id)), None)
    if target is None:
        raise NotFound("email_user")
    if not any(p.role == ADMIN for p in actor.positions):
        raise Forbidden("channel_admin")
    target.email = clean_email(email)
    audit(actor, "user_email_set", f"user:{target.id}", email=target.email)
    db.session.commit()
    return target


# ---------------------------------------------------------------- channels (admins)


def _admin_unit(actor: User, org_unit_id: Any) -> OrgUnit:
    try:
        uid = int(org_unit_id)
    except (TypeError, ValueError):
        raise NotFound("channel_unit") from None
    unit = db.session.get(OrgUnit, uid) if 0 < uid < 2**62 else None
    if unit is None or not can_see_unit(actor, unit):
        raise NotFound("channel_unit")
    if not is_admin_for(actor, unit):
        raise Forbidden("channel_admin")
    return unit


def channels_of(actor: User, org_unit_id: Any) -> list[Channel]:
    unit = _admin_unit(actor, org_unit_id)
    return list(db.session.scalars(select(Channel).where(Channel.org_unit_id == unit.id, Channel.deleted_at.is_(None))
                                   .order_by(Channel.id)))


def admin_channels(actor: User) -> list[Channel]:
    """Every channel of the units the actor administers (one query)."""
    return list(db.session.scalars(
        select(Channel).join(Channel.org_unit).where(unit_filter(actor, {ADMIN}), Channel.deleted_at.is_(None))
        .order_by(OrgUnit.path, Channel.id)))


def is_internal_address(address: str) -> bool:
    """True for a loopback, private, link-local (cloud metadata), reserved, multicast or
    unspecified IP address: where a robot or webhook must not point unless allowed."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified)


def _names_internal_host(url: str) -> bool:
    """The URL names an internal address outright (``localhost`` or an internal IP literal).
    Names that resolve inward are caught when sending, on the connected socket."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return is_internal_address(host)
    except ValueError:  # a name, not an address
        return False


def _channel_url(url: Any) -> str:
    """The address without the blanks around it: http(s) and a host that parses."""
    if not isinstance(url, str) or not CHANNEL_URL_RE.match(url.strip(BLANKS)) or len(url.strip(BLANKS)) > MAX_URL:
        raise BadInput("channel_url")
    try:
        urlsplit(url.strip(BLANKS)).hostname  # noqa: B018 - raises on a malformed host ("http://[x")
    except ValueError:
        raise BadInput("channel_url") from None
    return url.strip(BLANKS)


def add_channel(actor: User, org_unit_id: Any, *, kind: Any, url: Any, secret: Any = None,
                events: Any = None, allow_internal: bool = False) -> Channel:
    """A group robot or webhook for an org unit (its admins). Internal addresses are refused
    unless the deployment allows them (``NOTIFY_ALLOW_INTERNAL_URLS``)."""
    unit = _admin_unit(actor, org_unit_id)
    if kind not in CHANNEL_KINDS:
        raise BadInput("channel_kind")
    url = _channel_url(url)
    if not allow_internal and _names_internal_host(url):
        raise Invalid("channel_url_internal")
    if secret in ("", None):
        secret = None
    elif not isinstance(secret, str) or len(secret) > MAX_SECRET or any(ch.isspace() for ch in secret):
        raise BadInput("channel_secret")
    if events in (None, []):
        events = None
    elif not isinstance(events, list) or any(e not in ev.KINDS for e in events):
        raise BadInput("channel_events")
    channel = Channel(org_unit_id=unit.id, kind=kind, url=url, secret=secret,
                      events=sorted(set(events)) if events else None, created_by_id=actor.id)
    db.session.add(channel)
    db.session.flush()
    audit(actor, "channel_added", f"channel:{channel.id}", org_unit_id=unit.id, kind=kind)
    db.session.commit()
    return channel


def delete_channel(actor: User, org_unit_id: Any, channel_id: Any) -> None:
    unit = _admin_unit(actor, org_unit_id)
    try:
        cid = int(channel_id)
    except (TypeError, ValueError):
        raise NotFound("channel") from None
    channel = db.session.get(Channel, cid) if 0 < cid < 2**62 else None
    if channel is None or channel.org_unit_id != unit.id or channel.deleted_at is not None:
        raise NotFound("channel")
    channel.deleted_at = utcnow()
    audit(actor, "channel_deleted", f"channel:{channel.id}", org_unit_id=unit.id, kind=channel.kind)
    db.session.commit()


# ---------------------------------------------------------------- deliveries (admins)


@dataclass
class DeliveryRow:
    delivery: Any
    event: OutboxEvent
    unit_name: str | None
    recipient: str | None


def deliveries_for(actor: User, *, status: str | None = None, limit: int = 100, before_id: int | None = None
                   ) -> list[DeliveryRow]:
    """The deliveries of events in the org units the actor administers, newest first (two queries)."""
    from sqlalchemy.orm import aliased

    from .outbox import STATUSES, Delivery

    if status is not None and status not in STATUSES:
        raise BadInput("delivery_status")
    channel_unit = aliased(OrgUnit)
    query = (select(Delivery, OutboxEvent, OrgUnit.name, User.display_name, channel_unit.name)
             .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
             .join(OrgUnit, OrgUnit.id == OutboxEvent.org_unit_id)
             .outerjoin(User, User.id == Delivery.user_id)
             .outerjoin(Channel, Channel.id == Delivery.channel_id)
             .outerjoin(channel_unit, channel_unit.id == Channel.org_unit_id)
             .where(unit_filter(actor, {ADMIN})))
    if status:
        query = query.where(Delivery.status == status)
    if before_id:
        query = query.where(Delivery.id < before_id)
    rows = db.session.execute(query.order_by(Delivery.id.desc()).limit(limit)).all()
    result = []
    for delivery, event, unit_name, user_name, channel_unit_name in rows:
        # A group channel is named by its unit (its kind is in the channel column).
        recipient = user_name if delivery.user_id else (
            f"{channel_unit_name} #{delivery.channel_id}" if delivery.channel_id else None)
        result.append(DeliveryRow(delivery, event, unit_name, recipient))
    return result


def retry_delivery(actor: User, delivery_id: Any):
    """An admin's retry of a failed delivery (audited). The caller asks for a dispatch."""
    from .outbox import Delivery, retry

    try:
        did = int(delivery_id)
    except (TypeError, ValueError):
        raise NotFound("delivery") from None
    if not 0 < did < 2**62:
        raise NotFound("delivery")
    row = db.session.execute(
        select(Delivery, OrgUnit).join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .join(OrgUnit, OrgUnit.id == OutboxEvent.org_unit_id).where(Delivery.id == did)).first()
    if row is None or not can_see_unit(actor, row[1]):
        raise NotFound("delivery")
    delivery, unit = row
    if not is_admin_for(actor, unit):
        raise Forbidden("channel_admin")
    if not retry(delivery.id):
        db.session.rollback()
        raise Conflict("delivery_not_failed")
    audit(actor, "delivery_retried", f"delivery:{delivery.id}", org_unit_id=unit.id, key=delivery.key)
    db.session.commit()
    db.session.refresh(delivery)
    return delivery


def recent_audit(actor: User, limit: int = 20) -> list[AdminAudit]:
    return list(db.session.scalars(
        select(AdminAudit).join(OrgUnit, OrgUnit.id == AdminAudit.org_unit_id)
        .where(unit_filter(actor, {ADMIN})).order_by(AdminAudit.id.desc()).limit(limit)))


def comment_excerpt(event: OutboxEvent, limit: int = 140) -> str:
    comment_id = (event.payload or {}).get("comment_id")
    comment = db.session.get(Comment, comment_id) if comment_id else None
    if comment is None:
        return ""
    return comment.body if len(comment.body) <= limit else comment.body[:limit] + "…"
