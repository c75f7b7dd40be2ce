"""The town's and the reviewers' pages: my to-do, the report list, a new report, a report
with its outline, problems, comments and actions, and editing a draft.

Views are thin: each calls ``workflow.services`` and turns a ``DomainError`` into a flash
message (a 404 stays a 404: out of scope answers like missing).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from forms import labels
from forms.reports import ActionForm, AnswerForm, CommentForm, EditReportForm, NewReportForm, ReportFilterForm
from web import messages
from web.reports import bulk as bulk_ui
from web.templating import render_large, say, say_error
from web.views import me, require_login, see_other
from workflow import cycles, listing, seen, services
from workflow.checks import HALFWIDTH_PUNCTUATION
from workflow.content import blocking, count_sections
from workflow.cycle_models import Cycle
from workflow.dates import default_report_year, local_now, to_local
from workflow.db import db
from workflow.errors import Conflict, DomainError, NotFound
from workflow.importer import iter_sections, outline_to_text
from workflow.indicators import IndicatorsOf
from workflow.models import utcnow
from workflow.outline import iter_tables
from workflow.scope import roles_for
from workflow.table import AUTHOR, DRAFT, EDIT_ROLE, EDITABLE_STATES, PUBLISHED, TOWN_KINDS, CommentStatus

bp = Blueprint("reports", __name__)

# At most this many dropped lines are listed in a flash message (the session is a cookie).
DROPPED_SHOWN, DROPPED_CHARS = 8, 40


bp.before_request(require_login)



def say_form_errors(form) -> None:
    for name, errors in form.errors.items():
        for error in errors:
            if name == "csrf_token":
                say(_("The form has expired; reload the page and try again."), "error")
            else:
                field = getattr(form, name, None)
                say(f"{field.label.text}: {error}" if field is not None else str(error), "error")


def say_imported(saved: services.Saved) -> None:
    sections = count_sections(saved.report.current.outline.get("sections", []))
    say(ngettext("Imported %(num)d section.", "Imported %(num)d sections.", sections))
    tables = sum(1 for _ in iter_tables(saved.report.current.outline))
    if tables:
        say(ngettext("Imported %(num)d table.", "Imported %(num)d tables.", tables))
    page_marks = saved.repairs.get("page_marks", 0)
    dropped = saved.dropped_lines[:len(saved.dropped_lines) - page_marks]
    if dropped:
        shown = [line if len(line) <= DROPPED_CHARS else line[:DROPPED_CHARS] + "…" for line in dropped[:DROPPED_SHOWN]]
        more = len(dropped) - len(shown)
        text = ngettext("%(num)d line copied from a web page was left out:",
                        "%(num)d lines copied from a web page were left out:", len(dropped))
        lines = "\n".join(f"· {line}" for line in shown)
        if more:
            lines += "\n" + ngettext("… and %(num)d more", "… and %(num)d more", more)
        say(text + "\n" + lines, "dropped")
    say_repairs(saved.repairs)


def say_repairs(repairs: dict[str, int]) -> None:
    """Tell the author what paste repair changed, so that nothing is changed in silence."""
    joined = repairs.get("joined_lines", 0)
    loose = repairs.get("loose_numbers", 0)
    if repairs.get("page_marks"):
        say(ngettext("%(num)d page number or footer (such as “- 1 -” or “第 3 页”) was left out.",
                     "%(num)d page numbers or footers (such as “- 1 -” or “第 3 页”) were left out.",
                     repairs["page_marks"]), "dropped")
    if joined:
        say(ngettext("%(num)d line broken in the middle of a sentence (as in text copied from a PDF) "
                     "was joined to the line before it.",
                     "%(num)d lines broken in the middle of a sentence (as in text copied from a PDF) "
                     "were joined to the lines before them.", joined), "dropped")
    if loose:
        say(ngettext("%(num)d heading numbered with a comma or a full stop (一, or 一.) was read as a heading.",
                     "%(num)d headings numbered with a comma or a full stop (一, or 一.) were read as headings.",
                     loose), "dropped")


def author_towns(user) -> list:
    return sorted({p.org_unit.id: p.org_unit for p in user.positions
                   if p.role == AUTHOR and p.org_unit.kind in TOWN_KINDS}.values(), key=lambda u: u.path)


# ---------------------------------------------------------------- my to-do and the list


@bp.get("/")
def inbox():
    items = services.inbox(me())
    return render_template("reports/inbox.html", items=items, returned=cycles.returned_ids(items),
                           tasks=cycles.open_tasks_for_author(me()),
                           **bulk_ui.list_context(items, "reports.inbox"))


@bp.get("/reports")
def index():
    form = ReportFilterForm(formdata=request.args)
    form.validate()
    filters = {name: _filter_value(form[name]) for name in ("state", "kind", "year", "org_unit_id", "town", "q")}
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    per_page = current_app.config.get("PAGE_SIZE", 20)
    try:
        page = services.list_reports(me(), page=request.args.get("page"), cursor=request.args.get("cursor"),
                                     per_page=per_page, summary=True, **filters)
    except DomainError as exc:
        say_error(exc)
        page = services.Page([], 0, 1, per_page)
    return render_template("reports/index.html", form=form, page=page, filters=filters, rows=list_rows(page.items),
                           many_towns=_sees_many_towns(),
                           **bulk_ui.list_context(page.items, "reports.index", rows=True))


@dataclass(frozen=True, slots=True)
class ListRow:
    """What a row of the report list shows, computed once in Python: the page spent most of its
    time in per-row template filters, gettext and ``url_for`` calls."""

    id: int
    url: str
    title: str
    town: str
    kind: str
    year: int
    state: str
    state_label: str
    date: str
    time: str


def list_rows(reports) -> list[ListRow]:
    """The rows of ``reports`` (``list_reports(summary=True)``: rows, not objects): each label
    translated once per code, the link built from one ``url_for``, local times formatted here."""
    link = url_for("reports.show", report_id=1)
    prefix = link[:-1] if link.endswith("/1") else None
    kinds: dict[str, str] = {}
    states: dict[str, str] = {}
    rows = []
    for r in reports:
        kind = kinds.get(r.kind)
        if kind is None:
            kind = kinds[r.kind] = labels.label(labels.KINDS, r.kind)
        state = states.get(r.state)
        if state is None:
            state = states[r.state] = labels.label(labels.STATES, r.state)
        local = to_local(r.updated_at).isoformat(" ", "minutes")  # "2026-03-04 13:06+08:00" (strftime: twice as long)
        rows.append(ListRow(r.id, f"{prefix}{r.id}" if prefix else url_for("reports.show", report_id=r.id), r.title,
                            r.unit_name, kind, r.year, r.state, state, local[:10], local[:16]))
    return rows


def _filter_value(field):
    value = field.data if not field.errors else None
    return value.strip() if isinstance(value, str) else value


def _sees_many_towns() -> bool:
    """Whether the town filter is worth showing (a town author of one town does without it)."""
    return listing.sees_many_towns(me(), TOWN_KINDS)


@bp.get("/reports/towns")
def towns():
    """The town picker's answer: up to 20 towns in the user's scope whose name contains ``q``."""
    found = listing.find_units(me(), q=request.args.get("q", ""), kinds=TOWN_KINDS)
    return jsonify({"items": [{"id": u.id, "name": u.name, "parent": u.parent_name} for u in found.items]})


# Bulk approval (checkboxes in the list and my to-do): web/reports/bulk.py.
bp.add_url_rule("/reports/bulk-approve", "bulk_approve", bulk_ui.approve, methods=["POST"])


# ---------------------------------------------------------------- a new report


def _content_args(form) -> dict:
    if form.has_docx():
        return {"docx": form.docx.data.read()}
    return {"text": form.text.data}


@bp.route("/reports/new", methods=["GET", "POST"])
def new():
    towns = author_towns(me())
    if not towns:
        say(_("Only a town's author can create reports."), "error")
        return see_other("reports.inbox")
    form = NewReportForm(towns=towns)
    status = 200
    if request.method == "GET":
        # The default kind is the annual plan: in the fourth quarter, next year's (see the placeholder).
        form.year.data = default_report_year(local_now().date())
        form.kind.data = "annual_plan"
    elif form.validate_on_submit():
        try:
            saved = services.create_report(
                me(), org_unit_id=form.org_unit_id.data, kind=form.kind.data, year=form.year.data,
                title=form.title.data, **_content_args(form))
        except DomainError as exc:
            say_error(exc)
            status = exc.status
        else:
            say(_("The draft is created."))
            say_imported(saved)
            return see_other("reports.show", report_id=saved.report.id)
    else:
        say_form_errors(form)
        status = 400
    example_year = form.year.data if isinstance(form.year.data, int) else default_report_year(local_now().date())
    return render_template("reports/new.html", form=form, example_town=towns[0].name,
                           example_year=example_year), status


# ---------------------------------------------------------------- the report page


def flat_sections(outline: dict) -> list[tuple[dict, int]]:
    return [(section, len(parents)) for section, parents in iter_sections(outline.get("sections", []))]


def section_names(flat: list[tuple[dict, int]]) -> dict[str, str]:
    """Section id → "number + heading", for pointing at a section from a list."""
    return {s.get("id"): (s.get("number", "") + s.get("heading", "")) for s, _depth in flat}


def changed_since(returned: int | None, report) -> tuple[int, int] | None:
    """(the version last returned, the current one) when the text differs from what was returned:
    a draft just returned is a new version number with the very same text, nothing to show yet."""
    if returned is None or report.content_number <= returned:
        return None
    returned_version = next((v for v in report.versions if v.number == returned), None)
    if returned_version is not None and returned_version.content_sha256 == report.current.content_sha256:
        return None
    return returned, report.content_number


def by_section(items: list, section_of, section_ids: set) -> dict:
    """``items`` grouped by their section; an item of no (or a vanished) section under None."""
    grouped: dict = {}
    for item in items:
        section_id = section_of(item)
        grouped.setdefault(section_id if section_id in section_ids else None, []).append(item)
    return grouped


def report_page_context(report) -> dict:
    """Everything the report page shows. For a reviewer, ``since_seen`` compares the version last
    opened with the current one (``workflow.seen``); the view records the visit after rendering."""
    current = report.current
    outline = current.outline or {}
    flat = flat_sections(outline)
    section_ids = {s.get("id") for s, _depth in flat}
    problems = current.problems or []
    comments = services.comments_of(report)
    events = services.history(report)
    returned = services.last_returned_version(events)
    roles = roles_for(me(), report.org_unit)
    options = services.action_options(me(), report)
    can_answer = report.state in EDITABLE_STATES and AUTHOR in roles
    next_item = next((r for r in services.inbox(me(), limit=5) if r.id != report.id), None)
    cycle = db.session.get(Cycle, report.cycle_id) if report.cycle_id else None
    return {
        "cycle": cycle,
        "cycle_days_left": (cycle.due_date - cycles.local_date(utcnow())).days if cycle is not None else None,
        # A draft whose last event is a return: its reason goes to the top of the page (已退回).
        "returned_event": events[-1] if report.state == DRAFT and events and events[-1].action == "return" else None,
        "report": report,
        "current": current,
        "outline": outline,
        "flat_sections": flat,
        "section_names": section_names(flat),
        "problems": problems,
        "blocking": blocking(problems),
        "problems_by_section": by_section(problems, lambda p: p.get("section_id"), section_ids),
        "comments": comments,
        "comments_by_section": by_section(comments, lambda c: c.section_id, section_ids),
        "open_comments": [c for c in comments if c.status == CommentStatus.OPEN],
        "events": events,
        "options": options,
        "can_edit": report.state in EDITABLE_STATES and EDIT_ROLE in roles,
        "can_answer": can_answer,
        "can_comment": report.state != PUBLISHED,
        "indicators": IndicatorsOf(outline),  # found as the page lists them
        "since_return": changed_since(returned, report),
        "since_seen": seen.changes_since_seen(me(), report) if seen.is_reviewer(me(), report) else None,
        "publication": services.publication_of(report) if report.state == PUBLISHED else None,
        "next_item": next_item,
        "comment_form": CommentForm(),
        "answer_form": AnswerForm(),
    }


@bp.get("/reports/<int:report_id>")
def show(report_id: int):
    report = services.get_report(me(), report_id)
    context = report_page_context(report)
    html = render_large("reports/show.html", **context)
    if context["since_seen"] is not None:
        seen.mark_seen(me(), report)  # after rendering: this page compared with the visit before
    return html


@bp.post("/reports/<int:report_id>/actions")
def act(report_id: int):
    report = services.get_report(me(), report_id)  # out of scope: 404, before anything else
    form = ActionForm()
    if not form.validate_on_submit():
        say_form_errors(form)
        return see_other("reports.show", report_id=report.id)
    action = form.action.data
    try:
        after = services.perform(me(), report.id, action, version=form.version.data,
                                 comment=form.comment.data)
    except NotFound:
        raise
    except DomainError as exc:
        say_error(exc)
        return see_other("reports.show", report_id=report.id)
    say(labels.ACTION_DONE.get((action, after.state), _("Done.")))
    return see_other("reports.show", report_id=report.id)


@bp.post("/reports/<int:report_id>/comments")
def comment(report_id: int):
    report = services.get_report(me(), report_id)
    form = CommentForm()
    anchor = f"sec-{form.section_id.data}" if form.section_id.data else "comments"
    if not form.validate_on_submit():
        say_form_errors(form)
        return see_other("reports.show", report_id=report.id, _anchor=anchor)
    try:
        added = services.add_comment(me(), report.id, body=form.body.data,
                                     section_id=form.section_id.data or None)
    except NotFound:
        raise
    except DomainError as exc:
        say_error(exc)
    else:
        if added.status == CommentStatus.OPEN:
            say(_("Review comment added. The town must answer it before resubmitting."))
        else:
            say(_("Comment added."))
    return see_other("reports.show", report_id=report.id, _anchor=anchor)


@bp.post("/reports/<int:report_id>/comments/<int:comment_id>/answer")
def answer(report_id: int, comment_id: int):
    report = services.get_report(me(), report_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        say_form_errors(form)
    else:
        try:
            services.answer_comment(me(), report.id, comment_id, status=form.status.data,
                                    answer=form.answer.data)
        except NotFound:
            raise
        except DomainError as exc:
            say_error(exc)
        else:
            say(_("Answer saved."))
    return see_other("reports.show", report_id=report.id, _anchor=f"comment-{comment_id}")


# ---------------------------------------------------------------- editing the draft


@bp.post("/reports/<int:report_id>/check")
def check(report_id: int):
    """The editor's live check (static/editor.js): the problems of the text being typed, as
    the side panel's HTML, without saving. JSON ``{"title", "text"}``; CSRF token in the
    X-CSRFToken header."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": _("The request could not be read.")}), 400
    try:
        checked = services.check_content(me(), report_id=report_id, title=body.get("title"),
                                         text=body.get("text") if isinstance(body.get("text"), str) else "")
    except NotFound:
        raise
    except DomainError as exc:
        return jsonify({"error": messages.render(exc)}), exc.status
    problems = checked.problems
    html = render_template("reports/_live_problems.html", problems=problems, blocking=blocking(problems),
                           section_names=section_names(flat_sections(dict(checked.outline))))
    halfwidth = sum(p["params"].get("count", 0) for p in problems if p["code"] == HALFWIDTH_PUNCTUATION)
    return jsonify({"html": html, "halfwidth": halfwidth})


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
def edit(report_id: int):
    report = services.get_report(me(), report_id)
    roles = roles_for(me(), report.org_unit)
    if EDIT_ROLE not in roles:
        say(_("Only the town's authors can edit its reports."), "error")
        return see_other("reports.show", report_id=report.id)
    form = EditReportForm()
    status = 200
    conflict = False
    if request.method == "GET":
        if report.state not in EDITABLE_STATES:
            say(_("Only a draft can be edited. Withdraw it first, or wait until it is returned."), "error")
            return see_other("reports.show", report_id=report.id)
        form.title.data = report.current.title
        form.text.data = outline_to_text(report.current.outline)
        form.version.data = str(report.version)
    elif form.validate_on_submit():
        try:
            saved = services.update_draft(me(), report.id, version=form.version.data,
                                          title=form.title.data, **_content_args(form))
        except NotFound:
            raise
        except DomainError as exc:
            say_error(exc)
            status = exc.status
            if isinstance(exc, Conflict):
                # Keep what the clerk typed; offer to save it over the newer version knowingly.
                conflict = True
                db.session.expire_all()
                report = services.get_report(me(), report.id)
                form.version.data = str(report.version)
                if report.state in EDITABLE_STATES:
                    say(_("Your text is kept below. Compare it with the current version; saving again "
                          "replaces that version with your text."), "info")
        else:
            say(_("Draft saved."))
            say_imported(saved)
            return see_other("reports.edit", report_id=report.id)
    else:
        say_form_errors(form)
        status = 400
    problems = report.current.problems or []
    return render_template("reports/edit.html", form=form, report=report, problems=problems,
                           blocking=blocking(problems),
                           halfwidth=any(p.get("code") == HALFWIDTH_PUNCTUATION for p in problems),
                           section_names=section_names(flat_sections(report.current.outline or {})),
                           conflict=conflict), status
