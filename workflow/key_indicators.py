"""Key indicators (主要指标): the few figures a district compares across its towns.

A district keeps a **catalogue** per report kind — key, name, canonical unit, synonyms; a
district with none for a kind uses :data:`DEFAULT_CATALOGUE` (no migration, no seeding needed).

A report's key indicators come from its extracted indicators (``workflow.indicators``, text and
tables): an indicator belongs to the catalogue entry whose name or synonym stands nearest before
it in its context, when its unit converts to the entry's unit (万元 ↔ 亿元 ↔ 元, 万亩 ↔ 亩 …;
% is a value in per cent; 个百分点 is a change, never a %). The author confirms or corrects them
before submit (a blank needs a reason). Confirmed values are stored per content version: a
version's set carries over to later drafts until confirmed again, is frozen with the content at
submit, and published with it. Unconfirmed values still count, marked ``extracted``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .content import clean_line
from .db import db, rowcount
from .errors import BadInput, Conflict, Forbidden, Invalid, NotFound
from .indicator_models import CatalogueEntry, KeyIndicatorValue
from .indicators import extract_indicators
from .models import OrgUnit, Report, User, utcnow
from .notifications import audit
from .publishing import district_of
from .scope import can_see_unit, roles_for
from .table import ADMIN, AUTHOR, DISTRICT_REVIEWER, DRAFT, KINDS

EXTRACTED, CONFIRMED = "extracted", "confirmed"
MAX_ENTRIES = 40
MAX_SYNONYMS = 20
MAX_REASON_CHARS = 500
EDITOR_ROLES = frozenset({ADMIN, DISTRICT_REVIEWER})
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# unit → (family, factor to the family's base). Units of one family convert into each other.
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    "元": ("money", 1.0), "万元": ("money", 1e4), "亿元": ("money", 1e8),
    "人": ("people", 1.0), "万人": ("people", 1e4),
    "人次": ("visits", 1.0), "万人次": ("visits", 1e4),
    "亩": ("area_mu", 1.0), "万亩": ("area_mu", 1e4),
    "平方米": ("area_m2", 1.0), "万平方米": ("area_m2", 1e4), "平方公里": ("area_m2", 1e6),
    "公顷": ("area_m2", 1e4),
    "吨": ("mass", 1.0), "万吨": ("mass", 1e4), "公斤": ("mass", 1e-3), "万斤": ("mass", 5.0),
    "头": ("head", 1.0), "万头": ("head", 1e4),
    "公里": ("length", 1.0), "千米": ("length", 1.0),
    "千瓦": ("power", 1.0), "兆瓦": ("power", 1e3),
    "%": ("percent", 1.0),
    "个百分点": ("points", 1.0),
}


@dataclass(frozen=True)
class Entry:
    key: str
    name: str
    unit: str
    synonyms: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)


DEFAULT_CATALOGUE: tuple[Entry, ...] = (
    Entry("gdp", "地区生产总值", "亿元", ("GDP", "生产总值", "国内生产总值")),
    Entry("budget_revenue", "一般公共预算收入", "万元", ("公共预算收入", "财政收入", "地方财政收入")),
    Entry("fixed_asset_investment", "固定资产投资", "亿元", ("固投", "全社会固定资产投资")),
    Entry("rural_income", "农村居民人均可支配收入", "元", ("农民人均可支配收入", "农民人均纯收入",
                                                   "农村常住居民人均可支配收入")),
    Entry("investment_attracted", "招商引资到位资金", "亿元", ("到位资金", "招商引资", "协议引资")),
    Entry("new_enterprises", "新增规上企业", "家", ("新增规模以上企业", "新增规上工业企业", "规上企业")),
    Entry("forest_cover", "森林覆盖率", "%", ("森林覆盖",)),
    Entry("new_jobs", "城镇新增就业", "人", ("新增就业", "新增城镇就业")),
)


def default_entries() -> list[dict[str, Any]]:
    """The default catalogue as ``set_catalogue`` takes it."""
    return [{"key": e.key, "name": e.name, "unit": e.unit, "synonyms": list(e.synonyms)} for e in DEFAULT_CATALOGUE]


def convert(value: float | None, from_unit: str, to_unit: str) -> float | None:
    """``value`` in ``from_unit`` expressed in ``to_unit``; None when they do not convert."""
    if value is None:
        return None
    if from_unit == to_unit:
        return value
    a, b = UNIT_FACTORS.get(from_unit), UNIT_FACTORS.get(to_unit)
    if a is None or b is None or a[0] != b[0]:
        return None
    return round(value * a[1] / b[1], 10)


# ---------------------------------------------------------------- the catalogue


def catalogue(district_id: int, kind: str) -> list[Entry]:
    """The district's catalogue for reports of ``kind`` (the default one if it has none)."""
    rows = db.session.scalars(select(CatalogueEntry).where(
        CatalogueEntry.district_id == district_id, CatalogueEntry.kind == kind).order_by(CatalogueEntry.position))
    entries = [Entry(r.key, r.name, r.unit, tuple(r.synonyms or ())) for r in rows]
    return entries or list(DEFAULT_CATALOGUE)


def has_own_catalogue(district_id: int, kind: str) -> bool:
    return db.session.scalar(select(CatalogueEntry.id).where(
        CatalogueEntry.district_id == district_id, CatalogueEntry.kind == kind).limit(1)) is not None


def _district(actor: User, district_id: Any) -> OrgUnit:
    """The district asked for, or the caller's own (the first district of their positions)."""
    if district_id in (None, ""):
        for p in actor.positions if actor.active else []:
            return district_of(p.org_unit)
        raise NotFound("org_unit")
    try:
        unit = db.session.get(OrgUnit, int(district_id))
    except (TypeError, ValueError):
        raise BadInput("not_an_integer", field="district_id") from None
    if unit is None or not can_see_unit(actor, unit):
        raise NotFound("org_unit")
    return district_of(unit)


def _kind(kind: Any) -> str:
    if kind in (None, ""):
        return "annual_report"
    if kind not in KINDS:
        raise BadInput("unknown_kind", kind=str(kind)[:40], expected=list(KINDS))
    return kind


def catalogue_for(actor: User, *, kind: Any = None, district_id: Any = None) -> tuple[OrgUnit, str, list[Entry]]:
    """What the caller's district (or one it sees) asks for in reports of ``kind``."""
    district, kind_s = _district(actor, district_id), _kind(kind)
    return district, kind_s, catalogue(district.id, kind_s)


def _entry(raw: Any, seen: set[str]) -> Entry:
    if not isinstance(raw, Mapping):
        raise BadInput("catalogue_entry_malformed")
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise BadInput("catalogue_key_invalid", key=str(key)[:40])
    if key in seen:
        raise BadInput("catalogue_key_duplicate", key=key)
    seen.add(key)
    name = clean_line(raw.get("name"), field="name", max_chars=100)
    unit = clean_line(raw.get("unit"), field="unit", max_chars=16)
    synonyms = raw.get("synonyms") or []
    if not isinstance(synonyms, list) or len(synonyms) > MAX_SYNONYMS:
        raise BadInput("catalogue_entry_malformed")
    cleaned = tuple(dict.fromkeys(clean_line(s, field="synonyms", max_chars=100) for s in synonyms))
    return Entry(key, name, unit, cleaned)


def set_catalogue(actor: User, *, kind: Any, entries: Any, district_id: Any = None) -> list[Entry]:
    """Replace the district's catalogue for ``kind`` (district reviewers and admins)."""
    district, kind_s = _district(actor, district_id), _kind(kind)
    if not EDITOR_ROLES & roles_for(actor, district):
        raise Forbidden("catalogue_not_editor")
    if not isinstance(entries, list) or not entries or len(entries) > MAX_ENTRIES:
        raise BadInput("catalogue_size", max=MAX_ENTRIES)
    seen: set[str] = set()
    new = [_entry(raw, seen) for raw in entries]
    db.session.query(CatalogueEntry).filter_by(district_id=district.id, kind=kind_s).delete()
    db.session.flush()
    for position, e in enumerate(new):
        db.session.add(CatalogueEntry(district_id=district.id, kind=kind_s, key=e.key, name=e.name, unit=e.unit,
                                      synonyms=list(e.synonyms), position=position))
    audit(actor, "catalogue_changed", f"catalogue:{kind_s}", org_unit_id=district.id, keys=[e.key for e in new])
    try:
        db.session.commit()
    except IntegrityError:  # another save of the same catalogue won the race
        db.session.rollback()
        raise Conflict("catalogue_changed_meanwhile") from None
    return new


# ---------------------------------------------------------------- matching


def _nearest_entry(context: str, value: str, entries: Iterable[Entry]) -> Entry | None:
    """The entry whose name or synonym ends nearest before the figure in its context."""
    at = context.find(value)
    before = context if at < 0 else context[:at]
    best: tuple[int, int, Entry] | None = None
    for entry in entries:
        for term in entry.terms:
            pos = before.rfind(term)
            if pos >= 0:
                candidate = (pos + len(term), len(term), entry)
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    return best[2] if best else None


def match(entries: list[Entry], indicators: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each entry, the first indicator (in document order) that belongs to it, converted."""
    found: dict[str, dict[str, Any]] = {}
    for ind in indicators:
        entry = _nearest_entry(ind.get("context", ""), ind.get("value", ""), entries)
        if entry is None or entry.key in found:
            continue
        value = convert(ind.get("number"), ind.get("unit", ""), entry.unit)
        if value is None:
            continue
        found[entry.key] = {"value": value, "as_written": f"{ind.get('value')}{ind.get('unit')}",
                            "context": ind.get("context", ""), "approx": bool(ind.get("approx"))}
    return found


def extracted(entries: list[Entry], outline: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return match(entries, extract_indicators(dict(outline)))


# ---------------------------------------------------------------- a report's key indicators


def confirmed_sets(report_ids: list[int], upto: Mapping[int, int]) -> dict[int, dict[str, KeyIndicatorValue]]:
    """Per report, the confirmed set of the latest version up to ``upto[report_id]`` (one query)."""
    if not report_ids:
        return {}
    rows = db.session.scalars(select(KeyIndicatorValue).where(KeyIndicatorValue.report_id.in_(report_ids))
                              .order_by(KeyIndicatorValue.report_id, KeyIndicatorValue.version_number))
    latest: dict[int, int] = {}
    sets: dict[int, dict[str, KeyIndicatorValue]] = {}
    for row in rows:
        if row.version_number > upto.get(row.report_id, 0):
            continue
        if latest.get(row.report_id) != row.version_number:
            latest[row.report_id] = row.version_number
            sets[row.report_id] = {}
        sets[row.report_id][row.key] = row
    return sets


def values_of(entries: list[Entry], outline: Mapping[str, Any], confirmed: Mapping[str, KeyIndicatorValue]
              ) -> list[dict[str, Any]]:
    """Each entry's value: confirmed if the author did, else extracted, else none."""
    found = extracted(entries, outline)
    result = []
    for e in entries:
        item: dict[str, Any] = {"key": e.key, "name": e.name, "unit": e.unit, "value": None, "source": None,
                                "reason": None, "extracted": found.get(e.key, {}).get("value"),
                                "as_written": found.get(e.key, {}).get("as_written"),
                                "context": found.get(e.key, {}).get("context")}
        if e.key in confirmed:
            c = confirmed[e.key]
            item |= {"value": convert(c.value, c.unit, e.unit), "source": CONFIRMED, "reason": c.reason}
        elif e.key in found:
            item |= {"value": found[e.key]["value"], "source": EXTRACTED}
        result.append(item)
    return result


def key_indicators_of(report: Report) -> list[dict[str, Any]]:
    """The report's key indicators as of its current content."""
    entries = catalogue(district_of(report.org_unit).id, report.kind)
    confirmed = confirmed_sets([report.id], {report.id: report.content_number}).get(report.id, {})
    return values_of(entries, report.current.outline, confirmed)


def _number(key: str, value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadInput("indicator_value_not_a_number", key=key)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput("indicator_value_not_a_number", key=key) from None
    if number != number or abs(number) > 1e15:
        raise BadInput("indicator_value_not_a_number", key=key)
    return number


def confirm(actor: User, report: Report, *, version: Any, values: Any, reasons: Any = None) -> None:
    """The author confirms (or corrects, or leaves blank with a reason) key indicators of the
    draft; keys not given keep what they had. Bumps the report's lock version."""
    if AUTHOR not in roles_for(actor, report.org_unit):
        raise Forbidden("key_indicators_not_author")
    if report.state != DRAFT:
        raise Conflict("key_indicators_frozen", state=report.state)
    if isinstance(version, bool) or not isinstance(version, int):
        raise BadInput("not_an_integer", field="version")
    if version != report.version:
        raise Conflict("stale_version", seen=version, current=report.version,
                       details={"current_version": report.version, "state": report.state})
    if not isinstance(values, Mapping) or (reasons is not None and not isinstance(reasons, Mapping)):
        raise BadInput("key_indicators_malformed")
    entries = {e.key: e for e in catalogue(district_of(report.org_unit).id, report.kind)}
    reasons = reasons or {}
    new: dict[str, tuple[float | None, str | None]] = {}
    for key, raw in values.items():
        if key not in entries:
            raise BadInput("unknown_indicator", key=str(key)[:40])
        number = _number(key, raw)
        reason = reasons.get(key)
        reason_s = clean_line(reason, field="reason", max_chars=MAX_REASON_CHARS, required=False) if reason else None
        if number is None and not reason_s:
            raise Invalid("indicator_blank_without_reason", key=key, name=entries[key].name)
        new[key] = (number, reason_s if number is None else None)
    _write_set(actor, report, version, entries, new)


def _write_set(actor: User, report: Report, seen: int, entries: Mapping[str, Entry],
               new: Mapping[str, tuple[float | None, str | None]]) -> None:
    number = report.content_number
    previous = confirmed_sets([report.id], {report.id: number}).get(report.id, {})
    merged = {k: (v.value if v.unit == entries[k].unit else convert(v.value, v.unit, entries[k].unit), v.reason)
              for k, v in previous.items() if k in entries} | dict(new)
    result = db.session.execute(update(Report).where(Report.id == report.id, Report.version == seen,
                                                     Report.state == DRAFT)
                                .values(version=Report.version + 1, updated_at=utcnow())
                                .execution_options(synchronize_session=False))
    if rowcount(result) != 1:
        db.session.rollback()
        raise Conflict("acted_meanwhile")
    db.session.query(KeyIndicatorValue).filter_by(report_id=report.id, version_number=number).delete()
    now = utcnow()
    for key, (value, reason) in merged.items():
        db.session.add(KeyIndicatorValue(report_id=report.id, version_number=number, key=key, value=value,
                                         unit=entries[key].unit, reason=reason, confirmed_by_id=actor.id,
                                         confirmed_at=now))
    audit(actor, "key_indicators_confirmed", f"report:{report.id}", org_unit_id=report.org_unit_id,
          version=number, keys=sorted(new))
    db.session.commit()
    db.session.expire_all()
