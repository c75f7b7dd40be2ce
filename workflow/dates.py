"""Facts about dates, each defined once: the time zone reports are dated in and the years a
report may be for.

China keeps one time zone (UTC+8, no daylight saving since 1991). Times are stored in UTC
(``models.utcnow``) and turned into local time only where a person reads them or a date
is written on a document.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Asia/Shanghai"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)

# The years a report (or a list filter) may name.
YEAR_MIN, YEAR_MAX = 2000, 2100


def to_local(value: dt.datetime) -> dt.datetime:
    """A stored time (naive means UTC) in the local time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(TIMEZONE)


def from_local(value: dt.datetime) -> dt.datetime:
    """A naive local wall-clock time as stored (naive UTC)."""
    return value.replace(tzinfo=TIMEZONE).astimezone(dt.UTC).replace(tzinfo=None)


def local_now() -> dt.datetime:
    return dt.datetime.now(TIMEZONE)


# Annual plans are drafted in the fourth quarter: from this month on, a new report is most
# likely next year's plan.
PLANNING_FROM_MONTH = 10


def default_report_year(today: dt.date) -> int:
    """The year a new report form proposes: next year from October on, else this year."""
    return today.year + 1 if today.month >= PLANNING_FROM_MONTH else today.year


def year_in_range(year: int) -> bool:
    return YEAR_MIN <= year <= YEAR_MAX
