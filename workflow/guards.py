"""The guards the transition table names. A guard returns None when the action may
proceed, or the error to answer with. Guards that need the actor's input (a reason)
are skipped when listing the allowed actions."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from .content import blocking
from .db import db
from .errors import DomainError, Forbidden, Invalid
from .models import Comment, Report, User
from .table import CommentStatus


@dataclass
class GuardContext:
    actor: User
    report: Report
    comment: str | None


def no_blocking_problems(ctx: GuardContext) -> DomainError | None:
    errors = blocking(ctx.report.current.problems or [])
    if errors:
        return Invalid("blocking_problems", count=len(errors), details={"problems": errors})
    return None


def comments_answered(ctx: GuardContext) -> DomainError | None:
    open_count = db.session.scalar(
        select(func.count(Comment.id)).where(Comment.report_id == ctx.report.id,
                                             Comment.status == CommentStatus.OPEN.value)
    )
    if open_count:
        return Invalid("open_comments", count=open_count, details={"open_comments": open_count})
    return None


def is_submitter(ctx: GuardContext) -> DomainError | None:
    if ctx.report.submitted_by_id != ctx.actor.id:
        return Forbidden("not_submitter")
    return None


def not_submitter(ctx: GuardContext) -> DomainError | None:
    if ctx.report.submitted_by_id == ctx.actor.id:
        return Forbidden("self_approval")
    return None


def not_editor(ctx: GuardContext) -> DomainError | None:
    """Separation of duties: whoever wrote any of the content (created the report or saved a
    draft; a new draft carries the old content on) does not approve it, at any level."""
    if ctx.actor.id in (ctx.report.editor_ids or []):
        return Forbidden("approve_own_edit")
    return None


def reason_given(ctx: GuardContext) -> DomainError | None:
    if not (ctx.comment or "").strip():
        return Invalid("reason_required")
    return None


GUARDS: dict[str, Callable[[GuardContext], DomainError | None]] = {
    "no_blocking_problems": no_blocking_problems,
    "comments_answered": comments_answered,
    "is_submitter": is_submitter,
    "not_submitter": not_submitter,
    "not_editor": not_editor,
    "reason_given": reason_given,
}
# Guards that judge the actor's input rather than the report: not evaluated when listing actions.
INPUT_GUARDS = frozenset({"reason_given"})
# Guards of separation of duties: a refusal by one of them is recorded in the admin audit trail.
DUTY_GUARDS = frozenset({"not_submitter", "not_editor"})
