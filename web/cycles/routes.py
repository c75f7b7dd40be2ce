"""报送任务: the district's cycles and their completeness matrix, 催办, the year view, and a
town's report started from a cycle.

Views are thin: each calls ``workflow.cycles`` (or ``workflow.services`` to create the
report) and turns a ``DomainError`` into a flash message; out of scope stays a 404.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext

from forms import labels
from forms.cycles import (
    CycleStateForm,
    MatrixFilterForm,
    OpenCycleForm,
    RemindForm,
    StartReportForm,
    TownsForm,
    YearForm,
)
from web.messages import MESSAGES, render
from web.templating import say, say_error
from web.views import me, require_login, see_other
from workflow import cycles, plan_check, services
from workflow.dates import TIMEZONE
from workflow.errors import DomainError, NotFound, TooMany
from workflow.importer import outline_to_text
from workflow.models import utcnow
from workflow.table import AUTHOR

from . import export

bp = Blueprint("cycles", __name__)


@bp.record_once
def _setup(state) -> None:
    app = state.app
    app.add_template_filter(lambda code: labels.label(labels.MATRIX_STATUSES, code), "matrix_status_label")
    app.add_template_filter(lambda code: labels.label(labels.CYCLE_STATES, code), "cycle_state_label")
    app.add_template_filter(lambda code: labels.label(labels.CYCLE_ACTIONS, code), "cycle_action_label")
    app.add_template_filter(lambda rate: f"{(rate or 0) * 100:.1f}%", "percent")


bp.before_request(require_login)



def say_domain(exc: DomainError) -> None:
    """A domain error as a flash message in the user's language."""
    if exc.key in MESSAGES:
        say(render(exc), "error")
    else:
        say_error(exc)


def say_form_errors(form) -> None:
    for name, errors in form.errors.items():
        for error in errors:
            if name == "csrf_token":
                say(_("The form has expired; reload the page and try again."), "error")
            else:
                field = getattr(form, name, None)
                say(f"{field.label.text}: {error}" if field is not None else str(error), "error")


def this_year() -> int:
    return dt.datetime.now(TIMEZONE).year


# ---------------------------------------------------------------- the list and a new cycle


@bp.get("/cycles")
def index():
    state = request.args.get("state") if request.args.get("state") in ("open", "closed") else None
    try:
        page = cycles.list_cycles(me(), state=state, year=request.args.get("year") or None,
                                  page=request.args.get("page") or 1)
    except DomainError as exc:
        say_domain(exc)
        page = cycles.CyclePage([], 0, 1, 50)
    return render_template("cycles/index.html", page=page, state=state,
                           can_open=bool(cycles.managed_districts(me())),
                           today=cycles.local_date(utcnow()), this_year=this_year())


@bp.route("/cycles/new", methods=["GET", "POST"])
def new():
    districts = cycles.managed_districts(me())
    if not districts:
        say(_("Only a district's reviewers and administrators open reporting cycles."), "error")
        return see_other("cycles.index")
    towns = [t for d in districts for t in cycles.towns_under(d)]
    form = OpenCycleForm(districts=districts, towns=towns)
    status = 200
    if request.method == "GET":
        form.org_unit_id.data = districts[0].id
        form.kind.data = "annual_plan"
        form.year.data = this_year() + 1
        form.title.data = _("%(year)d annual work plan", year=this_year() + 1)
        form.due_date.data = dt.datetime.now(TIMEZONE).date() + dt.timedelta(days=14)
        form.towns.data = [t.id for t in towns if t.path.startswith(districts[0].path)]
    elif form.validate_on_submit():
        district = next(d for d in districts if d.id == form.org_unit_id.data)
        chosen = [tid for tid in form.towns.data
                  if any(t.id == tid and t.path.startswith(district.path) for t in towns)]
        try:
            cycle = cycles.open_cycle(
                me(), org_unit_id=district.id, kind=form.kind.data, year=form.year.data,
                title=form.title.data, due_date=form.due_date.data, instructions=form.instructions.data or None,
                org_unit_ids=chosen, template=form.template.data or None)
        except DomainError as exc:
            say_domain(exc)
            status = exc.status
        else:
            say(_("The reporting cycle is open; the towns are told."))
            return see_other("cycles.show", cycle_id=cycle.id)
    else:
        say_form_errors(form)
        status = 400
    return render_template("cycles/new.html", form=form), status


# ---------------------------------------------------------------- the cycle and its matrix


@bp.get("/cycles/<int:cycle_id>")
def show(cycle_id: int):
    form = MatrixFilterForm(formdata=request.args)
    form.validate()
    status = form.status.data if form.status.data and not form.status.errors else None
    sort = form.sort.data if form.sort.data and not form.sort.errors else None
    m = cycles.matrix(me(), cycle_id, status=status, sort=sort)
    manager = cycles.can_manage(me(), m.cycle)
    return render_template("cycles/show.html", m=m, cycle=m.cycle, form=form, manager=manager,
                           remind_form=RemindForm(), state_form=CycleStateForm(),
                           audit=cycles.audit_log(m.cycle) if manager else [],
                           start_towns=_startable_towns(m), filtered=bool(status or sort))


def _startable_towns(m) -> list[int]:
    """The towns of the matrix the user may start a report for now (author, not started, open cycle)."""
    if m.cycle.state != "open":
        return []
    authored = {p.org_unit_id for p in me().positions if p.role == AUTHOR}
    return [r.org_unit_id for r in m.rows if r.status == "not_started" and r.org_unit_id in authored]


@bp.post("/cycles/<int:cycle_id>/reminders")
def remind(cycle_id: int):
    cycle = cycles.get_cycle(me(), cycle_id)  # out of scope: 404 before anything else
    form = RemindForm()
    if not form.validate_on_submit():
        say_form_errors(form)
        return see_other("cycles.show", cycle_id=cycle.id)
    town = form.org_unit_id.data
    try:
        result = cycles.remind(me(), cycle.id, org_unit_ids=[town] if town else None,
                               message=form.message.data or None)
    except NotFound:
        raise
    except TooMany as exc:
        next_at = exc.details.get("next_at") if isinstance(exc.details, dict) else None
        when = _local_time_of(next_at)
        say(_("Every town asked for was reminded within the hour. The next reminder is possible at %(time)s.",
              time=when), "error")
        return see_other("cycles.show", cycle_id=cycle.id)
    except DomainError as exc:
        say_domain(exc)
        return see_other("cycles.show", cycle_id=cycle.id)
    names = {t.id: t.name for t in cycles.expected_towns(cycle)}
    if result.reminded:
        say(ngettext("Reminded %(num)d town: %(names)s.", "Reminded %(num)d towns: %(names)s.",
                     len(result.reminded), names="、".join(names.get(i, str(i)) for i in result.reminded)))
    else:
        say(_("No town needed a reminder: every town asked for has submitted."), "info")
    skipped = [s for s in result.skipped if s["reason"] != "submitted" or town]
    if skipped:
        say(_("Not reminded: %(list)s.", list="；".join(
            f"{names.get(s['org_unit_id'], s['org_unit_id'])}（{labels.label(labels.SKIP_REASONS, s['reason'])}）"
            for s in skipped)), "info")
    return see_other("cycles.show", cycle_id=cycle.id)


def _local_time_of(iso: str | None) -> str:
    if not iso:
        return ""
    when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return when.astimezone(TIMEZONE).strftime("%H:%M")


@bp.post("/cycles/<int:cycle_id>/close")
def close(cycle_id: int):
    return _change_state(cycle_id, cycles.close_cycle, _("The cycle is closed: no new reports join it."))


@bp.post("/cycles/<int:cycle_id>/reopen")
def reopen(cycle_id: int):
    return _change_state(cycle_id, cycles.reopen_cycle, _("The cycle is open again."))


def _change_state(cycle_id: int, change, done: str):
    cycle = cycles.get_cycle(me(), cycle_id)
    form = CycleStateForm()
    if not form.validate_on_submit():
        say_form_errors(form)
    else:
        try:
            change(me(), cycle.id)
        except NotFound:
            raise
        except DomainError as exc:
            say_domain(exc)
        else:
            say(done)
    return see_other("cycles.show", cycle_id=cycle.id)


@bp.route("/cycles/<int:cycle_id>/towns", methods=["GET", "POST"])
def towns(cycle_id: int):
    cycle = cycles.get_cycle(me(), cycle_id)
    if not cycles.can_manage(me(), cycle):
        say(_("Only the district's reviewers and administrators run its reporting cycles."), "error")
        return see_other("cycles.show", cycle_id=cycle.id)
    candidates = cycles.towns_under(cycle.district)
    form = TownsForm(towns=candidates)
    status = 200
    if request.method == "GET":
        form.towns.data = [t.id for t in cycles.expected_towns(cycle)]
    elif form.validate_on_submit():
        try:
            cycles.set_towns(me(), cycle.id, form.towns.data)
        except NotFound:
            raise
        except DomainError as exc:
            say_domain(exc)
            status = exc.status
        else:
            say(_("The expected towns are saved."))
            return see_other("cycles.show", cycle_id=cycle.id)
    else:
        say_form_errors(form)
        status = 400
    return render_template("cycles/towns.html", cycle=cycle, form=form), status


@bp.get("/cycles/<int:cycle_id>/matrix.xlsx")
def matrix_xlsx(cycle_id: int):
    m = cycles.matrix(me(), cycle_id)
    return _download(export.to_xlsx(m), export.XLSX_MIMETYPE, export.filename(m, "xlsx"))


@bp.get("/cycles/<int:cycle_id>/matrix.csv")
def matrix_csv(cycle_id: int):
    m = cycles.matrix(me(), cycle_id)
    return _download(export.to_csv(m), "text/csv; charset=utf-8", export.filename(m, "csv"))


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/cycles/year")
def year():
    form = YearForm(formdata=request.args)
    form.validate()
    year_i = form.year.data if form.year.data and not form.year.errors else this_year() + 1
    try:
        view = cycles.year_view(me(), year=year_i, district_id=request.args.get("district") or None)
    except NotFound:
        raise
    form.year.data = year_i
    form.district.choices = [(str(d.id), d.name) for d in view.districts]
    if view.district is not None:
        form.district.data = str(view.district.id)
    return render_template("cycles/year.html", view=view, form=form)


# ---------------------------------------------------------------- a town starts its report


@bp.route("/cycles/<int:cycle_id>/start", methods=["GET", "POST"])
def start(cycle_id: int):
    cycle = cycles.get_cycle(me(), cycle_id)
    tasks = [t for t in cycles.open_tasks_for_author(me(), limit=200) if t.cycle.id == cycle.id]
    if not tasks:
        say(_("There is no report for you to start in this cycle."), "error")
        return see_other("cycles.show", cycle_id=cycle.id)
    towns = [t.town for t in tasks]
    form = StartReportForm(towns=towns)
    status = 200
    if request.method == "GET":
        wanted = request.args.get("town", type=int)
        town = next((t for t in towns if t.id == wanted), towns[0])
        form.org_unit_id.data = town.id
        form.title.data = cycles.default_report_title(cycle, town)
        template = plan_check.scaffold(town, cycle.kind, cycle.year) or cycle.template  # the year's plan first
        form.text.data = outline_to_text(template) if template else ""
    elif form.validate_on_submit():
        content = {"docx": form.docx.data.read()} if form.has_docx() else {"text": form.text.data}
        try:
            saved = services.create_report(me(), org_unit_id=form.org_unit_id.data, cycle_id=cycle.id,
                                           title=form.title.data, **content)
        except NotFound:
            raise
        except DomainError as exc:
            say_domain(exc)
            status = exc.status
        else:
            say(_("The draft is created in the cycle “%(title)s”.", title=cycle.title))
            return see_other("reports.show", report_id=saved.report.id)
    else:
        say_form_errors(form)
        status = 400
    return render_template("cycles/start.html", cycle=cycle, form=form, tasks=tasks,
                           days_left=tasks[0].days_left), status
