"""The completeness matrix as a workbook (.xlsx, openpyxl) and as CSV, with the figures the
page shows. Times are Beijing time; the CSV is UTF-8 with a byte-order mark so that Excel and
WPS on Chinese Windows open it as UTF-8."""
from __future__ import annotations

import csv
import datetime as dt
import io

from flask_babel import gettext as _

from forms import labels
from workflow.cycles import STATUSES, Matrix
from workflow.dates import TIMEZONE

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """A naive-UTC time as a naive Beijing time (spreadsheets have no time zones)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(TIMEZONE).replace(tzinfo=None)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else (_("yes") if value else _("no"))


def header() -> list[str]:
    return [_("Unit"), _("Status"), _("Status code"), _("Report id"), _("First submitted"), _("Published"),
            _("On time"), _("Past due"), _("Days in this step"), _("Last reminder"), _("Reminders")]


def rows(m: Matrix) -> list[list]:
    return [[r.org_unit_name, labels.label(labels.MATRIX_STATUSES, r.status), r.status, r.report_id,
             _local(r.submitted_at), _local(r.published_at), _yes_no(r.on_time), _yes_no(r.overdue), r.days_in_step,
             _local(r.last_reminded_at), r.reminders] for r in m.rows]


def summary(m: Matrix) -> list[tuple[str, object]]:
    c = m.cycle
    lines: list[tuple[str, object]] = [
        (_("Reporting cycle"), c.title), (_("District"), c.district.name),
        (_("Kind"), labels.label(labels.KINDS, c.kind)), (_("Year"), c.year), (_("Due date"), c.due_date),
        (_("State"), labels.label(labels.CYCLE_STATES, c.state)), (_("Expected"), m.expected),
    ]
    lines += [(labels.label(labels.MATRIX_STATUSES, s), m.counts.get(s, 0)) for s in STATUSES]
    lines += [(_("Submitted (actual)"), m.actual), (_("Submitted on time"), m.on_time), (_("Past due"), m.overdue),
              (_("Reporting rate"), m.reporting_rate), (_("On-time rate"), m.on_time_rate)]
    return lines


def to_xlsx(m: Matrix) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = _("Towns")[:31]
    sheet.append(header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    overdue_fill = PatternFill("solid", fgColor="FDECEA")
    for line, row in zip(rows(m), m.rows):
        sheet.append(line)
        if row.overdue:
            for cell in sheet[sheet.max_row]:
                cell.fill = overdue_fill
    for column in ("E", "F", "J"):
        for cell in sheet[column][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"
    for column, width in zip("ABCDEFGHIJK", (16, 12, 16, 10, 18, 18, 8, 8, 10, 18, 8)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "B2"

    totals = book.create_sheet(_("Summary")[:31])
    for key, value in summary(m):
        totals.append([key, value])
    for cell in totals["B"]:
        if isinstance(cell.value, float):
            cell.number_format = "0.0%"
        elif isinstance(cell.value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    totals.column_dimensions["A"].width = 22
    totals.column_dimensions["B"].width = 30
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(m: Matrix) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header())
    for line in rows(m):
        writer.writerow(["" if v is None else v.strftime("%Y-%m-%d %H:%M") if isinstance(v, dt.datetime) else v
                         for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def filename(m: Matrix, ext: str) -> str:
    return f"cycle-{m.cycle.id}-matrix.{ext}"
