"""What a reviewer last saw of a report, and what changed in it since.

A reviewer opening a report on a phone wants to know first whether there is anything new:
``ReportView`` keeps, per user and report, the version (and its content hash) the user last
had in front of them; :func:`changes_since_seen` compares that version with the current one,
section by section (``workflow.diff``), and :func:`mark_seen` records the visit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ForeignKey, String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from .db import Model, db
from .diff import diff_outlines, diff_stats
from .models import Report, User, utcnow
from .scope import roles_for
from .table import DISTRICT_REVIEWER, TOWN_REVIEWER

# Who gets "what changed since you last looked": the roles that review (authors write the changes).
REVIEW_ROLES = frozenset({TOWN_REVIEWER, DISTRICT_REVIEWER})


class ReportView(Model):
    """The last version of a report a user opened (one row per user and report, overwritten)."""

    __tablename__ = "report_view"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    content_number: Mapped[int] = mapped_column()
    # The draft is rewritten in place: the hash tells an edited draft from the one seen.
    content_sha256: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class SinceSeen:
    """What changed in a report since the user last opened it (``seen_number`` None: never)."""

    seen_number: int | None
    seen_at: dt.datetime | None
    current_number: int
    changed: int = 0
    added: int = 0
    removed: int = 0
    chars_inserted: int = 0
    chars_deleted: int = 0
    title_changed: bool = False
    # Same version number, other content: the draft was edited (its earlier text is not kept).
    draft_edited: bool = False

    @property
    def first_visit(self) -> bool:
        return self.seen_number is None

    @property
    def sections(self) -> int:
        return self.changed + self.added + self.removed

    @property
    def unchanged(self) -> bool:
        return (not self.first_visit and not self.sections and not self.chars_inserted
                and not self.chars_deleted and not self.title_changed and not self.draft_edited)

    @property
    def diffable(self) -> bool:
        """Two distinct versions to compare (a link into the diff makes sense)."""
        return self.seen_number is not None and self.seen_number != self.current_number and not self.unchanged


def is_reviewer(user: User, report: Report) -> bool:
    return bool(REVIEW_ROLES & set(roles_for(user, report.org_unit)))


def last_seen(user: User, report: Report) -> ReportView | None:
    return db.session.get(ReportView, (user.id, report.id))


def changes_since_seen(user: User, report: Report, seen: ReportView | None = None) -> SinceSeen:
    """Compare the version ``user`` last opened with the current one (``seen``: the row, when
    the caller has read it already)."""
    if seen is None:
        seen = last_seen(user, report)
    current = report.current
    if seen is None:
        return SinceSeen(None, None, current.number)
    if seen.content_sha256 == current.content_sha256:
        return SinceSeen(seen.content_number, seen.seen_at, current.number)
    old = next((v for v in report.versions if v.number == seen.content_number), None)
    if old is None or old.number == current.number:
        return SinceSeen(seen.content_number, seen.seen_at, current.number, draft_edited=True)
    stats = diff_stats(diff_outlines(old.outline or {}, current.outline or {}))
    return SinceSeen(seen.content_number, seen.seen_at, current.number, changed=stats["changed"],
                     added=stats["added"], removed=stats["removed"], chars_inserted=stats["chars_inserted"],
                     chars_deleted=stats["chars_deleted"], title_changed=old.title != current.title)


def mark_seen(user: User, report: Report) -> None:
    """Record that ``user`` has the current version of ``report`` in front of them now (one
    statement, an upsert: two tabs opening the page at once both succeed)."""
    current = report.current
    values = {"user_id": user.id, "report_id": report.id, "content_number": current.number,
              "content_sha256": current.content_sha256, "seen_at": utcnow()}
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(ReportView).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[ReportView.user_id, ReportView.report_id],
        set_={k: statement.excluded[k] for k in ("content_number", "content_sha256", "seen_at")})
    db.session.execute(statement)
    db.session.commit()

