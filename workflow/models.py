"""The domain's tables, as typed SQLAlchemy 2 models.

Facts kept once: a report's state and lock ``version`` live on ``Report``; its content
lives in ``ReportVersion`` rows (one working draft, the rest frozen snapshots); what
happened lives in the hash-chained ``AuditEvent`` log; a signed PDF's progress lives in
``Publication`` (the source of truth for the background job).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Connection, ForeignKey, Index, String, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .db import Model
from .table import CommentStatus

# werkzeug's default (scrypt). Tests lower it to a cheap method to keep fixtures fast.
PASSWORD_HASH_METHOD = "scrypt"


def utcnow() -> dt.datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL, so hashes over it are stable."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# An org path compares byte by byte (digits and slashes): a subtree is then one index range
# ``path >= '/1/4/' AND path < '/1/40'`` on both databases (PostgreSQL needs the "C" collation
# for that; SQLite compares bytes by default).
PATH_TYPE = String(255).with_variant(String(255, collation="C"), "postgresql")


def subtree_range(prefix: str) -> tuple[str, str]:
    """The half-open range of paths that start with ``prefix`` (which ends with "/")."""
    return prefix, prefix[:-1] + chr(ord("/") + 1)


class OrgUnit(Model):
    """A node of the administrative tree (区/县 → 镇/乡/街道, any depth).

    ``path`` is the materialised path of ids ("/1/4/"): a subtree is one indexed
    ``LIKE '/1/%'`` instead of a recursive walk, which keeps scope checks one query.
    """

    __tablename__ = "org_unit"
    # Two units of one name under one parent are one unit entered twice (roots, whose parent
    # is NULL, are told apart by ``workflow.admin``). A unique index rather than a table
    # constraint: SQLite adds it without rebuilding a table the whole schema refers to.
    __table_args__ = (Index("uq_org_unit_parent_id_name", "parent_id", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    division_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    # 发文机关全称 (青山镇人民政府) and the prefix of its 发文字号 (青政〔2026〕3号); None: the
    # defaults (:attr:`issuing_name_or_default`, :attr:`doc_prefix_or_default`).
    issuing_name: Mapped[str | None] = mapped_column(String(100))
    doc_prefix: Mapped[str | None] = mapped_column(String(20))

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.id")

    @property
    def issuing_name_or_default(self) -> str:
        """发文机关全称: the configured one, else the name + 人民政府 (青山镇 → 青山镇人民政府)."""
        return self.issuing_name or f"{self.name}人民政府"

    @property
    def doc_prefix_or_default(self) -> str:
        """The 发文字号's prefix: the configured one, else the name's first character + 政 (青政)."""
        return self.doc_prefix or f"{self.name[:1]}政"

    def contains(self, other: OrgUnit) -> bool:
        """True when ``other`` is this unit or below it."""
        return other.path.startswith(self.path)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def __repr__(self) -> str:
        return f"<OrgUnit {self.id} {self.name}>"


class User(Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Notifications: in-app ones always; e-mail ones when the user has an address and wants them.
    email: Mapped[str | None] = mapped_column(String(254))
    email_notifications: Mapped[bool] = mapped_column(default=True)
    # The generation of the user's sessions and tokens: each browser session carries the value it
    # was opened with (in ``get_id``), and raising it ends every session opened before.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    positions: Mapped[list[Position]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # The four attributes Flask-Login reads; written out so the domain does not import Flask-Login.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """What the session stores: the id and the session generation (see ``session_epoch``)."""
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Position(Model):
    """A role held at an org unit (岗位); it scopes the user to that unit's subtree."""

    __tablename__ = "position"
    __table_args__ = (UniqueConstraint("user_id", "org_unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="positions")
    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")


class ApiToken(Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()

    user: Mapped[User] = relationship()

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class LoginEvent(Model):
    """One attempt at a front door (the login page or ``POST /api/v1/tokens``) and what came of it,
    and the lockouts and their lifting. ``username`` is the name as typed (an unknown one too), so
    that a lockout falls on a name whether or not it exists."""

    __tablename__ = "login_event"
    __table_args__ = (Index("ix_login_event_username_id", "username", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))  # web, api, admin
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Report(Model):
    """A town's report. ``version`` is the optimistic lock: every write bumps it, and
    every write is ``UPDATE … WHERE version = <the version the actor saw>``."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_org_state", "org_unit_id", "state"),
        Index("ix_report_year_kind", "year", "kind"),
        # A district's list reads the district's rows only: its towns' paths, then newest first.
        Index("ix_report_org_path_updated", "org_path", "updated_at", "id"),
        # A town has at most one report per cycle (reports outside any cycle: NULL, unlimited).
        UniqueConstraint("cycle_id", "org_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    # The town's ``OrgUnit.path``, copied at creation (units never move): the scope of a list is
    # then a range of this column, without a join to org_unit (see ``workflow.scope``).
    org_path: Mapped[str] = mapped_column(PATH_TYPE, default="", server_default="")
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(32), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    # Number of the ReportVersion that is current (the draft, or the frozen one under review).
    content_number: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The reporting cycle (报送任务, ``workflow.cycle_models``) the report answers, if any.
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycle.id"))
    # Everyone who wrote any of its content (created it or saved a draft): none of them may
    # approve it, at any level (separation of duties; a new draft carries the old content on).
    editor_ids: Mapped[list[int]] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.number", cascade="all, delete-orphan"
    )

    @property
    def current(self) -> ReportVersion:
        """The current content (the draft while in draft, else the frozen version under review)."""
        for v in self.versions:
            if v.number == self.content_number:
                return v
        raise LookupError(f"report {self.id} has no version {self.content_number}")


@event.listens_for(Report, "before_insert")
def _copy_org_path(mapper: Mapper[Report], connection: Connection, report: Report) -> None:
    """Every report carries its town's path, whoever creates it (the services set it already)."""
    if not report.org_path:
        report.org_path = connection.scalar(select(OrgUnit.path).where(OrgUnit.id == report.org_unit_id)) or ""


class ReportVersion(Model):
    """A snapshot of a report's content. Mutable only while it is the draft
    (``frozen_at`` is None); frozen at submit, forever."""

    __tablename__ = "report_version"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    outline: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    frozen_at: Mapped[dt.datetime | None] = mapped_column()
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    report: Mapped[Report] = relationship(back_populates="versions")


class Comment(Model):
    """A comment (批注), optionally anchored to a section id (stable across versions).

    A reviewer's comment needs an answer from the town (``status`` open → adopted or
    explained) before the report can be resubmitted; an author's comment is a note.
    """

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()
    section_id: Mapped[str | None] = mapped_column(String(64))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.NOTE.value)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answer_version_number: Mapped[int | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id], lazy="joined")


class AuditEvent(Model):
    """One line of a report's history. ``hash`` covers the event's fields and the
    previous event's hash, so editing or deleting a line breaks the report's chain.

    Every event is also a link of the global chain of the whole system: ``global_seq``
    numbers all events without gaps, and ``global_hash`` covers ``hash`` and the previous
    event's ``global_hash`` (``global_prev_hash``), so deleting any event, a report's last
    included, leaves a gap that ``verify-audit`` names (``workflow.audit``)."""

    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("report_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    version_number: Mapped[int] = mapped_column()
    content_sha256: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    global_seq: Mapped[int] = mapped_column(unique=True)
    global_prev_hash: Mapped[str] = mapped_column(String(64))
    global_hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User] = relationship(lazy="joined")


class AdminAudit(Model):
    """A privileged action outside a report's own history: positions granted or revoked (and
    refused), channels added or removed, deliveries retried, accounts changed by an admin.

    The rows form one hash chain of their own (``seq`` without gaps, ``hash`` covering the row
    and ``prev_hash``), checked by ``verify-audit``. ``actor_id`` is None for the command line."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    target: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seq: Mapped[int] = mapped_column(unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship(lazy="joined")


class AuditChainHead(Model):
    """The head of a chain (``name``: the global chain of audit events, or the admin audit
    chain): its last sequence number and hash. Appends update it in their transaction,
    which serialises them (one line, however many writers) and lets ``verify-audit`` see
    that the last links were deleted."""

    __tablename__ = "audit_chain_head"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PublicationStatus(StrEnum):
    """Where the signed PDF of a publication stands (``Publication.status``; the API's ``pdf.status``)."""

    QUEUED = "queued"  # waiting for a worker: after the approval, and between automatic retries
    RUNNING = "running"  # a worker is making it
    READY = "ready"  # signed and archived: final
    FAILED = "failed"  # no automatic retry left: waits for an administrator's retry


class PublicationStage(StrEnum):
    """What the job is doing (``Publication.stage``): the progress bar's label."""

    PREPARING = "preparing"
    RENDERING = "rendering"
    SIGNING = "signing"
    ARCHIVING = "archiving"
    DONE = "done"
    RETRYING = "retrying"  # an attempt failed; RQ runs the next one after its interval
    FAILED = "failed"


class Publication(Model):
    """The signed PDF of one approved version: at most one per version, whatever retries.

    The job layer owns the row after the approval created it: ``pdf/publications.py`` makes
    every change to it."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    report_version_id: Mapped[int] = mapped_column(ForeignKey("report_version.id"), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=PublicationStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    archive_year: Mapped[int | None] = mapped_column()
    archive_seq: Mapped[int | None] = mapped_column()
    archive_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The town's 发文字号 (青政〔2026〕3号), from its DocNumberCounter: allocated once.
    doc_year: Mapped[int | None] = mapped_column()
    doc_seq: Mapped[int | None] = mapped_column()
    doc_number: Mapped[str | None] = mapped_column(String(64))
    file_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_size: Mapped[int | None] = mapped_column()
    signer: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime | None] = mapped_column()
    # The signed approval form (审批单, ``pdf.approval_form``) in the archive: written once.
    approval_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship()
    report_version: Mapped[ReportVersion] = relationship()
    district: Mapped[OrgUnit] = relationship()


class ArchiveCounter(Model):
    """The last archive number given per district and year (示范区〔2026〕N号)."""

    __tablename__ = "archive_counter"
    __table_args__ = (UniqueConstraint("district_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int] = mapped_column()
    last_seq: Mapped[int] = mapped_column(default=0)


class DocNumberCounter(Model):
    """The last 发文字号 given per issuing unit (the town) and year (青政〔2026〕N号)."""

    __tablename__ = "doc_number_counter"
    __table_args__ = (UniqueConstraint("org_unit_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int] = mapped_column()
    last_seq: Mapped[int] = mapped_column(default=0)
