"""Plan ↔ report: a town's annual work report (工作总结) for year Y answers its published annual
work plan (年度工作计划) for year Y.

- **The plan** of a report: the town's latest published ``annual_plan`` of the same year.
- **Tasks**: the plan's *leaf* sections — a heading with no sub-headings under it (``（一）抓好
  项目建设`` under ``一、…``; a top-level heading with no children is a task itself). Parents
  only group tasks.
- **Status**: the report's author gives each task 已完成 / 推进中 / 未完成 / 调整 and a note,
  while the report is a draft; they are frozen with it like its content.
- **Mentioned**: a task counts as mentioned when at least half of the character bigrams of its
  heading (numbering and punctuation removed) occur in the report's text. Plain character
  n-gram overlap: no segmenter, works on Chinese, and a reworded heading still shares most of
  its bigrams (``抓好项目建设`` → ``项目建设``). Tasks below the threshold are flagged.
- **Targets**: the catalogue's key indicators of the plan (its confirmed values, else those in
  its text) against the report's, with 完成率 = reported ÷ planned.
- **Scaffold**: a report started from an annual-report cycle without content of its own starts
  from the plan's headings (no paragraphs), when the plan exists.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .content import clean_text
from .db import db
from .errors import BadInput, Conflict, Forbidden, NotFound
from .indicator_models import PlanTaskStatus
from .key_indicators import catalogue, confirmed_sets, values_of
from .models import OrgUnit, Report, User, utcnow
from .notifications import audit
from .outline import Section, iter_sections
from .publishing import district_of
from .scope import roles_for
from .table import AUTHOR, DRAFT, PUBLISHED

DONE, ONGOING, NOT_DONE, ADJUSTED = "done", "ongoing", "not_done", "adjusted"
TASK_STATUSES: tuple[str, ...] = (DONE, ONGOING, NOT_DONE, ADJUSTED)
MENTION_THRESHOLD = 0.5
MAX_NOTE_CHARS = 1000
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_LEADING_NUMBER = re.compile(r"^[（(]?[一二三四五六七八九十百零〇0-9]+[）)、.．]?")


@dataclass
class Task:
    section_id: str
    number: str
    heading: str
    parent: str | None
    status: str | None
    note: str
    mentioned: bool
    overlap: float


@dataclass
class Target:
    key: str
    name: str
    unit: str
    planned: float | None
    reported: float | None
    rate: float | None


@dataclass
class PlanCheck:
    report: Report
    plan: Report | None
    tasks: list[Task]
    targets: list[Target]
    five_year_plan: Report | None = None
    five_year_targets: list[Target] | None = None

    @property
    def unmentioned(self) -> int:
        return sum(1 for t in self.tasks if not t.mentioned)


def plan_of(report: Report) -> Report | None:
    """The published annual plan the report answers (None for other kinds, or without one)."""
    if report.kind != "annual_report":
        return None
    return db.session.scalar(select(Report).where(
        Report.org_unit_id == report.org_unit_id, Report.kind == "annual_plan", Report.year == report.year,
        Report.state == PUBLISHED).order_by(Report.id.desc()).limit(1))


def five_year_plan_of(report: Report) -> Report | None:
    """The town's published five-year plan whose five years (from its ``year``) include the report's."""
    if report.kind != "annual_report":
        return None
    return db.session.scalar(select(Report).where(
        Report.org_unit_id == report.org_unit_id, Report.kind == "five_year_plan", Report.year <= report.year,
        Report.year > report.year - 5, Report.state == PUBLISHED).order_by(Report.year.desc(), Report.id.desc())
        .limit(1))


def plan_for_town(unit: OrgUnit, year: int) -> Report | None:
    return db.session.scalar(select(Report).where(
        Report.org_unit_id == unit.id, Report.kind == "annual_plan", Report.year == year,
        Report.state == PUBLISHED).order_by(Report.id.desc()).limit(1))


def leaf_tasks(outline: Mapping[str, Any]) -> list[tuple[Section, Section | None]]:
    """The plan's tasks: sections without sub-sections, each with its parent (or None)."""
    return [(s, parents[-1] if parents else None) for s, parents in iter_sections(list(outline.get("sections", [])))
            if not s.get("children")]


def _bigrams(text: str) -> set[str]:
    text = _NOISE.sub("", unicodedata.normalize("NFKC", text))
    return {text[i:i + 2] for i in range(len(text) - 1)}


def overlap(heading: str, report_bigrams: set[str]) -> float:
    """Share of the heading's character bigrams (numbering dropped) found in the report."""
    grams = _bigrams(_LEADING_NUMBER.sub("", heading.strip()))
    if not grams:
        return 1.0
    return len(grams & report_bigrams) / len(grams)


def _text_of(outline: Mapping[str, Any]) -> str:
    parts: list[str] = [*outline.get("preamble", []), *outline.get("closing", [])]
    for s, _ in iter_sections(list(outline.get("sections", []))):
        parts.append(s.get("heading", ""))
        parts.extend(s.get("paragraphs", []))
        tables: Any = s.get("tables") or []  # table blocks (their cells count as text)
        for table in tables:
            parts.extend(cell for row in table.get("rows", []) for cell in row)
    return "\n".join(parts)


def statuses_of(report: Report) -> dict[str, PlanTaskStatus]:
    return {s.section_id: s for s in db.session.scalars(
        select(PlanTaskStatus).where(PlanTaskStatus.report_id == report.id))}


def _key_values(report: Report, entries) -> dict[str, float | None]:
    confirmed = confirmed_sets([report.id], {report.id: report.content_number}).get(report.id, {})
    return {i["key"]: i["value"] for i in values_of(entries, report.current.outline, confirmed)}


def _targets(entries, planned: Mapping[str, float | None], reported: Mapping[str, float | None]) -> list[Target]:
    targets = []
    for e in entries:
        p, r = planned.get(e.key), reported.get(e.key)
        if p is None and r is None:
            continue
        targets.append(Target(e.key, e.name, e.unit, p, r, round(r / p, 4) if p and r is not None else None))
    return targets


def check(report: Report) -> PlanCheck:
    """Every plan task with its status and whether the report mentions it, and the targets
    of the year's plan (完成率) and of the five-year plan (年度进度) against the reported values."""
    plan, five = plan_of(report), five_year_plan_of(report)
    entries = catalogue(district_of(report.org_unit).id, report.kind)
    reported = _key_values(report, entries) if plan or five else {}
    five_targets = _targets(entries, _key_values(five, entries), reported) if five else None
    if plan is None:
        return PlanCheck(report, None, [], [], five, five_targets)
    report_grams = _bigrams(_text_of(report.current.outline))
    statuses = statuses_of(report)
    tasks = []
    for section, parent in leaf_tasks(plan.current.outline):
        ratio = overlap(section.get("heading", ""), report_grams)
        saved = statuses.get(section["id"])
        tasks.append(Task(section["id"], section.get("number", ""), section.get("heading", ""),
                          parent.get("heading") if parent else None, saved.status if saved else None,
                          saved.note if saved else "", ratio >= MENTION_THRESHOLD, round(ratio, 3)))
    return PlanCheck(report, plan, tasks, _targets(entries, _key_values(plan, entries), reported), five, five_targets)


def set_statuses(actor: User, report: Report, items: Iterable[Any]) -> None:
    """The author records how far each plan task got (only in draft; unknown tasks refused)."""
    if AUTHOR not in roles_for(actor, report.org_unit):
        raise Forbidden("plan_tasks_not_author")
    if report.state != DRAFT:
        raise Conflict("plan_tasks_frozen", state=report.state)
    plan = plan_of(report)
    if plan is None:
        raise NotFound("plan")
    task_ids = {s["id"] for s, _ in leaf_tasks(plan.current.outline)}
    existing = statuses_of(report)
    now = utcnow()
    changed = []
    for item in items:
        if not isinstance(item, Mapping):
            raise BadInput("plan_task_malformed")
        section_id, status = item.get("section_id"), item.get("status")
        if not isinstance(section_id, str) or section_id not in task_ids:
            raise BadInput("plan_task_unknown", section_id=str(section_id)[:64])
        if status not in TASK_STATUSES:
            raise BadInput("plan_task_status_unknown", status=str(status)[:20])
        note = clean_text(item.get("note") or "", field="note", max_chars=MAX_NOTE_CHARS, required=False)
        row = existing.get(section_id) or PlanTaskStatus(report_id=report.id, section_id=section_id)
        row.status, row.note, row.updated_by_id, row.updated_at = status, note, actor.id, now
        db.session.add(row)
        changed.append(section_id)
    audit(actor, "plan_tasks_set", f"report:{report.id}", org_unit_id=report.org_unit_id, sections=changed)
    try:
        db.session.commit()
    except IntegrityError:  # the same task's status was recorded meanwhile
        db.session.rollback()
        raise Conflict("acted_meanwhile") from None


def scaffold(unit: OrgUnit, kind: str, year: int) -> dict | None:
    """The plan's headings as the outline an annual report starts from (None without a plan)."""
    if kind != "annual_report":
        return None
    plan = plan_for_town(unit, year)
    if plan is None:
        return None

    def strip(sections: list) -> list:
        return [{"id": s["id"], "level": s["level"], "number": s.get("number", ""), "heading": s.get("heading", ""),
                 "paragraphs": [], "children": strip(s.get("children", []))} for s in sections]

    return {"preamble": [], "sections": strip(plan.current.outline.get("sections", [])), "closing": []}
