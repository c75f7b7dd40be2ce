"""Reviewing changes: a report's versions, one frozen version, and the differences between
two versions (by default, for a resubmitted report, since the version last returned)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from web.reports.routes import flat_sections, section_names
from web.views import require_login
from workflow import services
from workflow.diff import diff_outlines, diff_stats, text_ops
from workflow.errors import BadInput

bp = Blueprint("review", __name__)


bp.before_request(require_login)


def _submitters(report) -> dict[int, str]:
    """Version number → display name of whoever submitted it."""
    return {v.number: user.display_name for v, user in services.versions_with_submitters(report) if user}


@bp.get("/reports/<int:report_id>/versions")
def versions(report_id: int):
    report = services.get_report(current_user, report_id)
    events = services.history(report)
    returned = {e.version_number for e in events if e.action == "return"}
    return render_template("review/versions.html", report=report,
                           versions=sorted(report.versions, key=lambda v: v.number),
                           submitters=_submitters(report), returned=returned,
                           last_returned=services.last_returned_version(events))


@bp.get("/reports/<int:report_id>/versions/<int:number>")
def version(report_id: int, number: int):
    report = services.get_report(current_user, report_id)
    v = services.version_of(report, number)
    flat = flat_sections(v.outline or {})
    return render_template("review/version.html", report=report, v=v, outline=v.outline or {}, flat_sections=flat,
                           section_names=section_names(flat), submitter=_submitters(report).get(v.number))


def _number(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadInput("not_a_version_number", field=name)
    return int(raw)


@bp.get("/reports/<int:report_id>/diff")
def diff(report_id: int):
    report = services.get_report(current_user, report_id)
    chosen = services.diff_range(report, _number("from"), _number("to"))
    old, new, since_return = chosen.old, chosen.new, chosen.since_return
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
