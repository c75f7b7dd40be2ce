"""The guards the transition table names. A guard returns None when the action may
proceed, or the error to answer with. Guards that need the actor's input (a reason)
are skipped when listing the allowed actions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select

from .content import blocking
from .db import db
from .errors import DomainError, Forbidden, Invalid
from .models import Comment, Report, User


@dataclass
class GuardContext:
    actor: User
    report: Report
    comment: str | None


def no_blocking_problems(ctx: GuardContext) -> DomainError | None:
    errors = blocking(ctx.report.current.problems or [])
    if errors:
        return Invalid(f"有 {len(errors)} 处问题须先修改才能提交 / {len(errors)} problem(s) block submission",
                       details={"problems": errors})
    return None


def comments_answered(ctx: GuardContext) -> DomainError | None:
    open_count = db.session.scalar(
        select(func.count(Comment.id)).where(Comment.report_id == ctx.report.id, Comment.status == "open")
    )
    if open_count:
        return Invalid(f"还有 {open_count} 条审核意见未答复 / {open_count} review comment(s) still need an answer",
                       details={"open_comments": open_count})
    return None


def is_submitter(ctx: GuardContext) -> DomainError | None:
    if ctx.report.submitted_by_id != ctx.actor.id:
        return Forbidden("只有提交人可以撤回 / only the submitter can withdraw")
    return None


def not_submitter(ctx: GuardContext) -> DomainError | None:
    if ctx.report.submitted_by_id == ctx.actor.id:
        return Forbidden("不能审核自己提交的报告 / you cannot approve a report you submitted")
    return None


def reason_given(ctx: GuardContext) -> DomainError | None:
    if not (ctx.comment or "").strip():
        return Invalid("退回必须填写理由 / a return needs a reason")
    return None


GUARDS: dict[str, Callable[[GuardContext], DomainError | None]] = {
    "no_blocking_problems": no_blocking_problems,
    "comments_answered": comments_answered,
    "is_submitter": is_submitter,
    "not_submitter": not_submitter,
    "reason_given": reason_given,
}
# Guards that judge the actor's input rather than the report: not evaluated when listing actions.
INPUT_GUARDS = frozenset({"reason_given"})
