"""The roll-up as a workbook (openpyxl): the figures sheet (towns × indicators, then sum,
mean and median) and a chart sheet with one bar chart per indicator across the towns."""
from __future__ import annotations

import io

from flask_babel import gettext as _

from workflow.rollup import RollUp

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header(r: RollUp) -> list[str]:
    return [_("Unit"), *[f"{e.name}（{e.unit}）" for e in r.indicators], _("Report id")]


def figure_rows(r: RollUp) -> list[list]:
    return [[row.org_unit_name, *[row.cells[e.key].value for e in r.indicators], row.report_id] for row in r.rows]


def total_rows(r: RollUp) -> list[list]:
    return [[label, *[getattr(r.totals[e.key], attr) for e in r.indicators], None]
            for label, attr in ((_("Sum"), "sum"), (_("Mean"), "mean"), (_("Median"), "median"))]


def to_xlsx(r: RollUp) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = _("Figures")[:31]
    sheet.append(header(r))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    extracted = PatternFill("solid", fgColor="FFF4E0")
    for line, row in zip(figure_rows(r), r.rows):
        sheet.append(line)
        for col, e in enumerate(r.indicators, start=2):
            if row.cells[e.key].source == "extracted":
                sheet.cell(row=sheet.max_row, column=col).fill = extracted
    last_town_row = sheet.max_row
    for line in total_rows(r):
        sheet.append(line)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    sheet.append([])
    sheet.append([_("Shaded: taken from the text, not confirmed by the town.")])
    sheet.column_dimensions["A"].width = 16
    sheet.freeze_panes = "B2"

    charts = book.create_sheet(_("Charts")[:31])
    for i, _entry in enumerate(r.indicators):
        chart = BarChart()
        chart.type = "col"
        chart.title = sheet.cell(row=1, column=i + 2).value
        chart.legend = None
        chart.add_data(Reference(sheet, min_col=i + 2, min_row=1, max_row=max(last_town_row, 2)), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=max(last_town_row, 2)))
        chart.height, chart.width = 7.5, 16
        charts.add_chart(chart, f"A{1 + i * 16}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(r: RollUp) -> str:
    return f"cycle-{r.cycle.id}-rollup.xlsx"
