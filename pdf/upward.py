"""The town's report as a 上行文 (GB/T 9704-2012): who signed it off, when, and who approved it above.

A published report is the town's document to the district: the town's 发文机关标志 and
发文字号, its 签发人 (the town reviewer whose approval sent this version up), its 成文日期
(that approval's date) and seal; the district's approval (its reviewer's opinion, if one
was written, and the date) is shown as a mark of its own with the district's seal. Both
facts come from the report's audit chain, for the version being published: the last
``approve`` from ``town_review`` and the last ``approve`` into ``published``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from workflow.db import db
from workflow.models import AuditEvent
from workflow.table import DISTRICT_REVIEW, PUBLISHED, TOWN_REVIEW

__all__ = ["DEFAULT_OPINION", "Approvals", "approvals_of"]

# What the approval mark says when the district reviewer wrote no opinion.
DEFAULT_OPINION = "同意。"


@dataclass(frozen=True)
class Approvals:
    """The two approvals of a published version, as the document prints them."""

    town_signer: str | None  # 签发人: the town reviewer's display name (None: no such event)
    town_date: dt.date  # 成文日期: the town's approval, in the site's time zone
    district_reviewer: str | None  # the district reviewer's display name
    district_opinion: str  # 审核意见: the reviewer's comment, else DEFAULT_OPINION
    district_date: dt.date  # the district's approval, in the site's time zone


def _local(when: dt.datetime, timezone: str) -> dt.date:
    return when.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(timezone)).date()


def _last_approval(report_id: int, version: int, from_state: str, to_state: str) -> AuditEvent | None:
    return db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.report_id == report_id, AuditEvent.action == "approve",
               AuditEvent.from_state == from_state, AuditEvent.to_state == to_state,
               AuditEvent.version_number == version)
        .order_by(AuditEvent.seq.desc()).limit(1))


def approvals_of(report_id: int, version: int, *, district_approved_at: dt.datetime,
                 timezone: str) -> Approvals:
    """The town's and the district's approvals of ``version`` of the report. Without a
    town approval event (data from before the audit chain), the 成文日期 is the district's
    date and no 签发人 is printed."""
    town = _last_approval(report_id, version, TOWN_REVIEW, DISTRICT_REVIEW)
    district = _last_approval(report_id, version, DISTRICT_REVIEW, PUBLISHED)
    district_date = _local(district.created_at if district else district_approved_at, timezone)
    opinion = (district.comment or "").strip() if district else ""
    return Approvals(
        town_signer=town.actor.display_name if town else None,
        town_date=_local(town.created_at, timezone) if town else district_date,
        district_reviewer=district.actor.display_name if district else None,
        district_opinion=opinion or DEFAULT_OPINION,
        district_date=district_date,
    )
