"""Bulk approval in the browser: checkboxes in the report list and my to-do, "select all
clean", a common opinion, one approve button, and a page listing each item's outcome.

The views call ``workflow.bulk`` (each item its own transition). The result is a page, not a
flash: a hundred outcomes do not fit in the session cookie.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from forms.bulk import BACK_PAGES, BulkApproveForm
from web.templating import say, say_error
from web.views import me
from workflow import bulk
from workflow.errors import BadInput, DomainError
from workflow.models import Report


def list_context(reports: Sequence[Report], endpoint: str, *, rows: bool = False) -> dict:
    """What a list page needs to offer bulk approval of its rows (two queries at most; three
    for ``rows``: ids and states, not ``Report`` objects, see ``bulk.approvable_rows``)."""
    offer = bulk.approvable_rows(me(), reports) if rows else bulk.approvable(me(), reports)
    if not offer:  # nothing to approve here: no form (the templates show none without ``bulk``)
        return {"bulk": offer, "bulk_form": None, "bulk_here": None, "bulk_select_clean": False}
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "select"]
    here = url_for(endpoint) + (f"?{urlencode(args)}" if args else "")
    return {"bulk": offer, "bulk_form": BulkApproveForm(formdata=None, back=here), "bulk_here": here,
            "bulk_select_clean": request.args.get("select") == "clean"}


def back_url(value: str | None) -> str:
    """The list page a bulk approval came from (its filters kept), if it is one of ours."""
    parts = urlsplit(value or "")
    if not parts.scheme and not parts.netloc and parts.path.startswith("/") and "\\" not in parts.path:
        try:
            endpoint, _args = current_app.url_map.bind("localhost").match(parts.path, method="GET")
        except Exception:  # not a page of ours
            endpoint = None
        if endpoint in BACK_PAGES:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("reports.index")


def approve():
    """POST: approve the chosen reports, each its own transition; answer with the outcomes."""
    form = BulkApproveForm()
    back = back_url(form.back.data)
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            for error in errors:
                if name == "csrf_token":
                    say(_("The form has expired; reload the page and try again."), "error")
                else:
                    say(f"{form[name].label.text}: {error}", "error")
        return redirect(back, code=303)
    chosen = form.chosen()
    try:
        if chosen is None:
            raise BadInput("bulk_bad_item")
        results = bulk.perform_each(me(), "approve", chosen, comment=form.comment.data)
    except DomainError as exc:  # the request as a whole (nothing chosen, too many): nothing happened
        say_error(exc)
        return redirect(back, code=303)
    reports = bulk.reports_by_id(me(), [r.report_id for r in results])
    return render_template("reports/bulk_result.html", results=results, reports=reports, back=back,
                           succeeded=sum(1 for r in results if r.ok), comment=form.comment.data)
