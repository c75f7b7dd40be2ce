"""The tables of key indicators (主要指标): a district's catalogue per report kind, the values
a town's author confirms for a report version, and the status of each plan task in a town's
annual report (``workflow.key_indicators``, ``workflow.plan_check``)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import Model
from .models import utcnow


class CatalogueEntry(Model):
    """One key indicator a district asks its towns for in reports of one kind, with its
    canonical unit and the other names towns write it under. A district without entries for a
    kind uses ``key_indicators.DEFAULT_CATALOGUE``."""

    __tablename__ = "indicator_catalogue_entry"
    __table_args__ = (UniqueConstraint("district_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(16))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)


class KeyIndicatorValue(Model):
    """A value the author confirmed (or left blank, with a reason) for one content version.
    A version's set carries over to later versions until confirmed again; once the report is
    submitted the set is frozen with the content, and published with it."""

    __tablename__ = "key_indicator_value"
    __table_args__ = (UniqueConstraint("report_id", "version_number", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()
    key: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column()
    unit: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlanTaskStatus(Model):
    """How far a task of the town's annual plan got, as its annual report's author says."""

    __tablename__ = "plan_task_status"
    __table_args__ = (UniqueConstraint("report_id", "section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
