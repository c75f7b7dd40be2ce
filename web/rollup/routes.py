"""Key indicators, the district's catalogue, the roll-up of a cycle and the plan check.

Views are thin: each calls ``workflow.key_indicators`` (and its neighbours) and turns a
``DomainError`` into a flash message; out of scope stays a 404.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.indicators import TASK_STATUS_LABELS, CatalogueForm, key_indicators_form, plan_tasks_form
from web.cycles.routes import say_domain, say_form_errors
from web.templating import say
from web.views import require_login, see_other
from workflow import key_indicators, plan_check, rollup, services
from workflow.errors import DomainError, NotFound
from workflow.models import Report, User
from workflow.publishing import district_of
from workflow.scope import roles_for
from workflow.table import AUTHOR, DRAFT

from . import export

bp = Blueprint("rollup", __name__)
bp.before_request(require_login)


@bp.record_once
def _setup(state) -> None:
    state.app.add_template_global(key_indicator_panel)
    state.app.add_template_filter(figure, "figure")


def figure(value: float | None) -> str:
    """12.5, 3,000, 0.35: a figure as people write it (no float noise, thousands grouped)."""
    if value is None:
        return ""
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return text


def key_indicator_panel(report: Report) -> dict:
    """What the report page shows of key indicators, and the form when the author may confirm."""
    items = key_indicators.key_indicators_of(report)
    can_confirm = report.state == DRAFT and AUTHOR in roles_for(current_user, report.org_unit)
    form = None
    if can_confirm:
        entries = _entries(report)
        data = {f"v_{i['key']}": _decimal(i["value"]) for i in items}
        data |= {f"r_{i['key']}": i["reason"] or "" for i in items}
        form = key_indicators_form(entries, data=data | {"version": report.version})
    return {"items": items, "form": form, "entries": _entries(report) if can_confirm else []}


def _entries(report: Report) -> list[key_indicators.Entry]:
    return key_indicators.catalogue(district_of(report.org_unit).id, report.kind)


def _int(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _decimal(value: float | None) -> Decimal | None:
    """3200.0 → 3200 and 12.50 → 12.5 in the form (never 3.2E+3)."""
    if value is None:
        return None
    number = Decimal(repr(value))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


@bp.post("/reports/<int:report_id>/key-indicators")
def confirm(report_id: int):
    report = services.get_report(current_user, report_id)
    form = key_indicators_form(_entries(report))
    if not form.validate_on_submit():
        say_form_errors(form)
        return see_other("reports.show", report_id=report.id, _anchor="key-indicators")
    values, reasons = {}, {}
    for entry, value_field, reason_field in form.pairs(_entries(report)):
        values[entry.key] = None if value_field.data is None else float(value_field.data)
        if (reason_field.data or "").strip():
            reasons[entry.key] = reason_field.data
    try:
        key_indicators.confirm(current_user, report, version=_int(form.version.data), values=values, reasons=reasons)
    except NotFound:
        raise
    except DomainError as exc:
        say_domain(exc)
    else:
        say(_("The key indicators are confirmed."))
    return see_other("reports.show", report_id=report.id, _anchor="key-indicators")


# ---------------------------------------------------------------- the catalogue


def _lines_of(entries: list[key_indicators.Entry]) -> str:
    return "\n".join(f"{e.key} | {e.name} | {e.unit} | {'、'.join(e.synonyms)}" for e in entries)


def _parse_lines(text: str) -> list[dict]:
    """``key | name | unit | synonym、synonym`` per line (blank lines skipped)."""
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (4 - len(parts))
        synonyms = [s.strip() for s in parts[3].replace(",", "、").replace("，", "、").split("、") if s.strip()]
        items.append({"key": parts[0], "name": parts[1], "unit": parts[2], "synonyms": synonyms})
    return items


@bp.route("/indicator-catalogue", methods=["GET", "POST"])
def catalogue():
    kind = request.args.get("kind") or "annual_report"
    district_id = request.args.get("district") or None
    district, kind, entries = key_indicators.catalogue_for(current_user, kind=kind, district_id=district_id)
    editor = _is_editor(current_user, district)
    form = CatalogueForm()
    status = 200
    if request.method == "POST" and editor:
        if form.validate_on_submit():
            try:
                key_indicators.set_catalogue(current_user, kind=kind, entries=_parse_lines(form.lines.data),
                                             district_id=district.id)
            except DomainError as exc:
                say_domain(exc)
                status = exc.status
            else:
                say(_("The indicator catalogue is saved."))
                return see_other("rollup.catalogue", kind=kind, district=district.id)
        else:
            say_form_errors(form)
            status = 400
    elif request.method == "GET":
        form.lines.data = _lines_of(entries)
    return render_template("rollup/catalogue.html", district=district, kind=kind, entries=entries, form=form,
                           editor=editor, own=key_indicators.has_own_catalogue(district.id, kind)), status


def _is_editor(user: User, district) -> bool:
    return bool(key_indicators.EDITOR_ROLES & roles_for(user, district))



# ---------------------------------------------------------------- the roll-up of a cycle


def chart_data(r: rollup.RollUp) -> dict:
    """What the page's charts draw (``static/rollup.js``), as JSON in the page."""
    return {
        "indicators": [{"key": e.key, "name": e.name, "unit": e.unit} for e in r.indicators],
        "towns": [row.org_unit_name for row in r.rows],
        "values": {e.key: [row.cells[e.key].value for row in r.rows] for e in r.indicators},
        "sources": {e.key: [row.cells[e.key].source for row in r.rows] for e in r.indicators},
        "years": [c.year for c in r.history.cycles],
        "series": {e.key: [{"name": row.org_unit_name, "values": r.history.values[row.org_unit_id][e.key]}
                           for row in r.rows] for e in r.indicators},
        "sums": r.history_sums,
    }


@bp.get("/cycles/<int:cycle_id>/rollup")
def cycle_rollup(cycle_id: int):
    r = rollup.rollup(current_user, cycle_id, sort=request.args.get("sort"), q=request.args.get("q"),
                      flagged_only=request.args.get("flagged"))
    chosen = request.args.get("indicator")
    if chosen not in {e.key for e in r.indicators}:
        chosen = r.sort_key or (r.indicators[0].key if r.indicators else None)
    report_url = url_for("reports.show", report_id=0)[:-1]  # + the id: one url_for, not one per town
    return render_template("rollup/rollup.html", r=r, cycle=r.cycle, chosen=chosen, chart=chart_data(r),
                           report_url=report_url,
                           editor=_is_editor(current_user, r.cycle.district))


@bp.get("/cycles/<int:cycle_id>/rollup.xlsx")
def cycle_rollup_xlsx(cycle_id: int):
    r = rollup.rollup(current_user, cycle_id)
    response = Response(export.to_xlsx(r), mimetype=export.XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(r)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- plan ↔ report


@bp.route("/reports/<int:report_id>/plan-check", methods=["GET", "POST"])
def plan_check_page(report_id: int):
    report = services.get_report(current_user, report_id)
    result = plan_check.check(report)
    can_set = (result.plan is not None and report.state == DRAFT
               and AUTHOR in roles_for(current_user, report.org_unit))
    form = None
    status = 200
    if can_set:
        data = {f"s_{i}": t.status or "" for i, t in enumerate(result.tasks)}
        data |= {f"n_{i}": t.note for i, t in enumerate(result.tasks)}
        form = plan_tasks_form(len(result.tasks), data=data if request.method == "GET" else None)
        if request.method == "POST":
            if form.validate_on_submit():
                items = [{"section_id": t.section_id, "status": form[f"s_{i}"].data, "note": form[f"n_{i}"].data or ""}
                         for i, t in enumerate(result.tasks) if form[f"s_{i}"].data]
                try:
                    if items:
                        plan_check.set_statuses(current_user, report, items)
                except NotFound:
                    raise
                except DomainError as exc:
                    say_domain(exc)
                    status = exc.status
                else:
                    say(_("The task statuses are saved."))
                    return see_other("rollup.plan_check_page", report_id=report.id)
            else:
                say_form_errors(form)
                status = 400
    elif request.method == "POST":
        say(_("The task statuses can be set only by the town's author while the report is a draft."), "error")
        status = 409
    return render_template("rollup/plan_check.html", report=report, c=result, form=form,
                           status_labels=TASK_STATUS_LABELS), status
