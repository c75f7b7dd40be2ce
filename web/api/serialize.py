"""Domain objects → the API's JSON shapes (dumped through ``web.api.schemas``).

Text is returned verbatim: markup in a title is data here; escaping is the HTML layer's job.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import url_for

from pdf import service as pdf_service
from pdf.publications import PdfStatus
from web import messages
from web.messages import problems_for_reader
from workflow import listing, services
from workflow.indicators import extract_indicators
from workflow.key_indicators import key_indicators_of
from workflow.models import Comment, OrgUnit, Report, User
from workflow.outline import iter_sections

from . import schemas

_summary = schemas.ReportSummarySchema()
_report = schemas.ReportSchema()
_comment = schemas.CommentSchema()


def unit_ref(unit: OrgUnit) -> dict:
    return {"id": unit.id, "name": unit.name, "kind": unit.kind}


def me(user: User) -> dict:
    return schemas.MeSchema().dump({
        "id": user.id, "username": user.username, "display_name": user.display_name,
        "positions": [{"org_unit": unit_ref(p.org_unit), "role": p.role}
                      for p in sorted(user.positions, key=lambda p: (p.org_unit.path, p.role))],
    })


def org_tree(units: list[OrgUnit]) -> dict:
    """Nest the visible units; a unit whose parent is not visible is a root."""
    nodes = {u.id: {"id": u.id, "name": u.name, "kind": u.kind, "division_code": u.division_code,
                    "parent_id": u.parent_id, "children": []} for u in units}
    roots = []
    for u in sorted(units, key=lambda u: u.id):
        parent = nodes.get(u.parent_id) if u.parent_id is not None else None
        (parent["children"] if parent is not None else roots).append(nodes[u.id])
    return schemas.OrgUnitTreeSchema().dump({"items": roots})


def org_unit_page(page: listing.UnitPage) -> dict:
    """A page of the org-unit search (the picker's answer)."""
    return schemas.OrgUnitPageSchema().dump({
        "items": [{"id": u.id, "name": u.name, "kind": u.kind, "division_code": u.division_code,
                   "parent_id": u.parent_id, "parent_name": u.parent_name} for u in page.items],
        "next_cursor": page.next_cursor,
    })


def _summary_dict(report: Report) -> dict:
    return {"id": report.id, "title": report.title, "kind": report.kind, "year": report.year,
            "state": report.state, "version": report.version, "org_unit": unit_ref(report.org_unit),
            "created_at": report.created_at, "updated_at": report.updated_at, "cycle_id": report.cycle_id}


def summary(report: Report) -> dict:
    """A report's summary (what a list item or a bulk result shows)."""
    return _summary.dump(_summary_dict(report))


def _utc(value: dt.datetime | None) -> str | None:
    """As ``schemas.UtcDateTime`` dumps it."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def report_page(page: services.Page) -> dict:
    """A page of the list (``list_reports(summary=True)``: rows, not objects); with a search
    query each item carries its snippet and the ``[start, end)`` character offsets of the
    matches in it. Written out rather than dumped through ``ReportListSchema`` (what it answers
    is that schema's shape, as a test checks): marshmallow took half of the list's time."""
    items = []
    snippets = page.snippets
    # Unpacked in SUMMARY_COLUMNS' order (a row's attributes cost more than the rest of the item).
    for rid, title, kind, year, state, version, created_at, updated_at, cycle_id, unit_id, unit_name, unit_kind, \
            *_ in page.items:
        item = {"id": rid, "title": title, "kind": kind, "year": year, "state": state, "version": version,
                "org_unit": {"id": unit_id, "name": unit_name, "kind": unit_kind},
                "created_at": _utc(created_at), "updated_at": _utc(updated_at), "cycle_id": cycle_id}
        snippet = snippets.get(rid) if snippets else None
        if snippet is not None:
            item |= {"snippet": snippet.text, "snippet_highlights": [list(h) for h in snippet.highlights]}
        items.append(item)
    return {"items": items, "total": page.total, "total_capped": page.capped, "page": page.page,
            "per_page": page.per_page, "next_cursor": page.next_cursor}


def comment(c: Comment) -> dict:
    return _comment.dump(_comment_dict(c))


def _comment_dict(c: Comment) -> dict:
    return {"id": c.id, "body": c.body, "section_id": c.section_id, "author": c.author.username,
            "created_at": c.created_at, "version": c.version_number, "status": c.status, "answer": c.answer,
            "answered_by": c.answered_by.username if c.answered_by else None, "answered_at": c.answered_at}


def pdf_status(status: PdfStatus | None) -> dict | None:
    """``pdf.publications.PdfStatus`` as the API answers it (null before publication)."""
    if status is None:
        return None
    return {"status": status.status, "progress": status.progress,
            "url": url_for("api.report_pdf", report_id=status.report_id, _external=True) if status.ready else None,
            "sha256": status.sha256, "archive_no": status.archive_no, "stage": status.stage,
            "heartbeat_at": status.heartbeat_at, "retry_at": status.retry_at, "doc_number": status.doc_number,
            "error": None if status.error is None else {
                "reason": status.error.reason,
                "message": messages.render_key("publication_failed", status.error.reason)}}


def verdict(found: Any) -> dict:
    """``pdf.service.Verdict`` as the API answers it, ``message`` in the caller's language.
    The archive number is the archive's when the file is in it, else the signed one."""
    result, entry = found.result, found.entry
    data = {name: getattr(result, name, None) for name in
            ("status", "sha256", "report_id", "archive_no", "signer", "reason", "signed_at", "detail")}
    data.update(valid=found.headline in ("valid_in_archive", "valid_not_ours"), verdict=found.headline,
                in_archive=entry is not None, document=None, timestamped=bool(result.timestamped),
                message=messages.render(result),
                signers=[{"name": s.name, "org": s.org, "signed_at": s.signed_at, "timestamped": s.timestamped}
                         for s in getattr(result, "signers", ())])
    if entry is not None:
        data.update(archive_no=entry.archive_no, report_id=entry.report_id, document=found.document)
    return schemas.VerifyResultSchema().dump(data)


def checked(result: services.Checked) -> dict:
    """Problems of unsaved content, with their messages (``POST /checks``)."""
    return schemas.CheckResultSchema().dump({
        "problems": problems_for_reader(result.problems),
        "sections": sum(1 for _ in iter_sections(result.outline.get("sections", []))),
    })


def report(actor: User, report: Report, *, dropped_lines: list[str] | None = None,
           repairs: dict[str, int] | None = None) -> dict:
    """The full report as the actor sees it (allowed actions are the actor's)."""
    current = report.current
    data = _summary_dict(report) | {
        "outline": current.outline,
        "problems": problems_for_reader(current.problems),
        "comments": [_comment_dict(c) for c in services.comments_of(report)],
        "history": [{"action": e.action, "from_": e.from_state, "to": e.to_state, "actor": e.actor.username,
                     "at": e.created_at, "version": e.version_number, "comment": e.comment,
                     "content_sha256": e.content_sha256} for e in services.history(report)],
        "allowed_actions": services.allowed_actions(actor, report),
        "pdf": pdf_status(pdf_service.status_of_report(report)),
        "content_version": current.number,
        "content_sha256": current.content_sha256,
        "indicators": extract_indicators(current.outline),
        "key_indicators": key_indicators_of(report),
    }
    if dropped_lines is not None:
        data["dropped_lines"] = dropped_lines
    if repairs:
        data["repairs"] = repairs
    return _report.dump(data)
