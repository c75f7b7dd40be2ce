"""The roll-up (汇总) of a reporting cycle: every town's key indicators side by side, with
sums, means, medians, each town's share, growth against the same town in last year's cycle of
the same kind, outliers, and the same towns across the district's earlier cycles of that kind.

What counts: the published report of each expected town (its confirmed values, or the values
extracted from its text, marked ``extracted``). Towns without a published report have a row
with no values. A caller sees only the towns of the cycle in its scope.

Outliers, per indicator, against the median of the towns that reported it:
``high`` — at least ten times the median; ``unit`` — a thousand times off either way (a figure
typed in 元 where 万元 was meant, or 万元 for 亿元, lands there: those factors are 10⁴ and 10⁸).

The query count does not depend on the number of towns: the cycle, the catalogue, the towns,
the published reports (with their content) of this and the earlier cycles, and their confirmed
values are each one query.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select

from .cycle_models import Cycle, CycleTown
from .cycles import get_cycle
from .db import db
from .key_indicators import CONFIRMED, EXTRACTED, Entry, catalogue, confirmed_sets, values_of
from .models import OrgUnit, Report, ReportVersion, User
from .scope import unit_filter
from .table import PUBLISHED

HIGH, UNIT = "high", "unit"
HIGH_FACTOR = 10.0
UNIT_FACTOR = 1000.0
SORTS = ("town", "value", "-value")
MAX_YEARS = 10


@dataclass
class Cell:
    value: float | None = None
    source: str | None = None  # extracted | confirmed | None
    share: float | None = None  # of the sum, 0–1
    previous: float | None = None  # the same town, last year's cycle of the same kind
    growth: float | None = None  # (value − previous) ÷ previous
    outlier: str | None = None  # high | unit | None


@dataclass
class Row:
    org_unit_id: int
    org_unit_name: str
    report_id: int | None
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return any(c.outlier for c in self.cells.values())


@dataclass
class Stats:
    count: int
    sum: float | None
    mean: float | None
    median: float | None


@dataclass
class History:
    """The towns across the district's cycles of this kind, up to this cycle's year."""

    cycles: list[Cycle]
    values: dict[int, dict[str, list[float | None]]]  # town id → key → one value per cycle


@dataclass
class RollUp:
    cycle: Cycle
    indicators: list[Entry]
    rows: list[Row]
    totals: dict[str, Stats]
    previous_cycle: Cycle | None
    history: History
    sort: str = "town"
    sort_key: str | None = None
    q: str = ""
    flagged_only: bool = False

    @property
    def reported(self) -> int:
        return sum(1 for r in self.rows if r.report_id is not None)

    @property
    def history_sums(self) -> dict[str, list[float | None]]:
        """Per indicator, the sum over the visible towns in each cycle of ``history`` (None: nobody)."""
        sums: dict[str, list[float | None]] = {}
        for e in self.indicators:
            columns = zip(*(values[e.key] for values in self.history.values.values()), strict=True)
            sums[e.key] = [round(sum(v for v in col if v is not None), 6) if any(v is not None for v in col) else None
                           for col in columns]
        return sums


def _towns(cycle: Cycle, actor: User) -> list[tuple[int, str]]:
    return [(uid, name) for uid, name in db.session.execute(
        select(OrgUnit.id, OrgUnit.name).join(CycleTown, CycleTown.org_unit_id == OrgUnit.id)
        .where(CycleTown.cycle_id == cycle.id, unit_filter(actor)).order_by(OrgUnit.name, OrgUnit.id))]


def _published(cycle_ids: Sequence[int], entries: list[Entry], town_ids: set[int]
               ) -> dict[int, dict[int, tuple[int, list[dict[str, Any]]]]]:
    """cycle id → town id → (report id, key indicator items) of the published reports."""
    if not cycle_ids or not town_ids:
        return {}
    found = list(db.session.execute(
        select(Report.id, Report.cycle_id, Report.org_unit_id, Report.content_number, ReportVersion.outline)
        .join(ReportVersion, and_(ReportVersion.report_id == Report.id,
                                  ReportVersion.number == Report.content_number))
        .where(Report.cycle_id.in_(cycle_ids), Report.state == PUBLISHED)))
    found = [f for f in found if f.org_unit_id in town_ids]
    confirmed = confirmed_sets([f.id for f in found], {f.id: f.content_number for f in found})
    result: dict[int, dict[int, tuple[int, list[dict[str, Any]]]]] = {}
    for f in found:
        items = values_of(entries, f.outline, confirmed.get(f.id, {}))
        result.setdefault(f.cycle_id, {})[f.org_unit_id] = (f.id, items)
    return result


def _stats(values: list[float]) -> Stats:
    if not values:
        return Stats(0, None, None, None)
    total = sum(values)
    return Stats(len(values), round(total, 6), round(total / len(values), 6), statistics.median(values))


def _outlier(value: float, median: float | None) -> str | None:
    if median is None or median <= 0 or value <= 0:
        return None
    ratio = value / median
    if ratio >= UNIT_FACTOR or ratio <= 1 / UNIT_FACTOR:
        return UNIT
    if ratio >= HIGH_FACTOR:
        return HIGH
    return None


def _earlier_cycles(cycle: Cycle) -> list[Cycle]:
    """The district's cycles of the same kind up to this one's year, one per year (the latest opened)."""
    cycles = db.session.scalars(select(Cycle).where(
        Cycle.district_id == cycle.district_id, Cycle.kind == cycle.kind, Cycle.year <= cycle.year,
        Cycle.year > cycle.year - MAX_YEARS).order_by(Cycle.year, Cycle.id))
    by_year: dict[int, Cycle] = {}
    for c in cycles:
        if c.year != cycle.year or c.id == cycle.id:
            by_year[c.year] = c
    return [by_year[y] for y in sorted(by_year)]


def rollup(actor: User, cycle_id: Any, *, sort: Any = None, q: Any = None, flagged_only: Any = False) -> RollUp:
    """The roll-up of a cycle as ``actor`` may see it (404 outside scope)."""
    cycle = get_cycle(actor, cycle_id)
    entries = catalogue(cycle.district_id, cycle.kind)
    towns = _towns(cycle, actor)
    series = _earlier_cycles(cycle)
    previous = next((c for c in reversed(series) if c.year == cycle.year - 1), None)
    published = _published([c.id for c in series], entries, {uid for uid, _ in towns})
    rows = _rows(towns, entries, published.get(cycle.id, {}), published.get(previous.id, {}) if previous else {})
    totals = _fill_totals(rows, entries)
    history = History(series, {uid: {e.key: [_value_in(published.get(c.id, {}).get(uid), e.key) for c in series]
                                     for e in entries} for uid, _ in towns})
    result = RollUp(cycle, entries, rows, totals, previous, history)
    _sort_and_filter(result, sort, q, flagged_only)
    return result


def _value_in(found: tuple[int, list[dict[str, Any]]] | None, key: str) -> float | None:
    if found is None:
        return None
    return next((i["value"] for i in found[1] if i["key"] == key), None)


def _rows(towns: list[tuple[int, str]], entries: list[Entry], current: dict, previous: dict) -> list[Row]:
    rows = []
    for uid, name in towns:
        found = current.get(uid)
        row = Row(uid, name, found[0] if found else None)
        for e in entries:
            item = next((i for i in found[1] if i["key"] == e.key), None) if found else None
            cell = Cell()
            if item is not None and item["value"] is not None:
                cell.value, cell.source = item["value"], item["source"]
            cell.previous = _value_in(previous.get(uid), e.key)
            if cell.value is not None and cell.previous:
                cell.growth = round((cell.value - cell.previous) / cell.previous, 6)
            row.cells[e.key] = cell
        rows.append(row)
    return rows


def _fill_totals(rows: list[Row], entries: list[Entry]) -> dict[str, Stats]:
    totals = {}
    for e in entries:
        values = [r.cells[e.key].value for r in rows if r.cells[e.key].value is not None]
        stats = totals[e.key] = _stats([v for v in values if v is not None])
        for r in rows:
            cell = r.cells[e.key]
            if cell.value is None:
                continue
            if stats.sum:
                cell.share = round(cell.value / stats.sum, 6)
            cell.outlier = _outlier(cell.value, stats.median)
    return totals


def _sort_and_filter(result: RollUp, sort: Any, q: Any, flagged_only: Any) -> None:
    """``sort``: ``town``, or an indicator key (``gdp``: largest first; ``-gdp``: smallest)."""
    keys = {e.key for e in result.indicators}
    sort_s = sort if isinstance(sort, str) else "town"
    key = sort_s.lstrip("-")
    if key in keys:
        descending = not sort_s.startswith("-")
        with_value = [r for r in result.rows if r.cells[key].value is not None]
        without = [r for r in result.rows if r.cells[key].value is None]
        with_value.sort(key=lambda r: r.cells[key].value or 0.0, reverse=descending)
        result.rows = with_value + without
        result.sort, result.sort_key = sort_s, key
    if isinstance(q, str) and q.strip():
        result.q = q.strip()[:50]
        result.rows = [r for r in result.rows if result.q in r.org_unit_name]
    if flagged_only in (True, "1", "true", "on"):
        result.flagged_only = True
        result.rows = [r for r in result.rows if r.flagged]


__all__ = ["CONFIRMED", "EXTRACTED", "HIGH", "UNIT", "Cell", "History", "RollUp", "Row", "Stats", "rollup"]
