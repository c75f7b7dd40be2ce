"""Reviewing changes: a report's versions, one frozen version, and the differences between
two versions (by default, for a resubmitted report, since the version last returned)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from web.extensions import login_manager
from web.reports.routes import flat_sections, last_return_version, section_names
from workflow import services
from workflow.diff import diff_outlines, diff_stats, text_ops
from workflow.errors import BadInput

bp = Blueprint("review", __name__)


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _submitters(events) -> dict[int, str]:
    """Version number → display name of whoever submitted it (from the history: no extra query)."""
    return {e.version_number: e.actor.display_name for e in events if e.action == "submit"}


@bp.get("/reports/<int:report_id>/versions")
def versions(report_id: int):
    report = services.get_report(current_user, report_id)
    events = services.history(report)
    returned = {e.version_number for e in events if e.action == "return"}
    return render_template("review/versions.html", report=report, versions=sorted(report.versions, key=lambda v: v.number),
                           submitters=_submitters(events), returned=returned,
                           last_returned=last_return_version(events))


@bp.get("/reports/<int:report_id>/versions/<int:number>")
def version(report_id: int, number: int):
    report = services.get_report(current_user, report_id)
    v = services.version_of(report, number)
    flat = flat_sections(v.outline or {})
    return render_template("review/version.html", report=report, v=v, outline=v.outline or {}, flat_sections=flat,
                           section_names=section_names(flat), submitter=_submitters(services.history(report)).get(v.number))


def _number(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadInput(f"{name} 必须是版本号 / {name} must be a version number")
    return int(raw)


@bp.get("/reports/<int:report_id>/diff")
def diff(report_id: int):
    report = services.get_report(current_user, report_id)
    events = services.history(report)
    returned = last_return_version(events)
    to_n = _number("to") or report.content_number
    from_n = _number("from")
    since_return = False
    if from_n is None:
        if returned is not None and returned < to_n:
            from_n, since_return = returned, True
        else:
            from_n = max(to_n - 1, 1)
    else:
        since_return = from_n == returned and to_n == report.content_number
    old, new = services.version_of(report, from_n), services.version_of(report, to_n)
    entries = diff_outlines(old.outline or {}, new.outline or {})
    show_all = request.args.get("all") == "1"
    shown = entries if show_all else [e for e in entries if e["status"] != "same"]
    title_ops = None
    if old.title != new.title:
        title_ops = text_ops(old.title, new.title)
    return render_template("review/diff.html", report=report, old=old, new=new, entries=shown,
                           total_entries=len(entries), stats=diff_stats(entries), show_all=show_all,
                           since_return=since_return, title_ops=title_ops,
                           numbers=[v.number for v in sorted(report.versions, key=lambda v: v.number)])
