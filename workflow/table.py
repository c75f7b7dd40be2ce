"""The workflow as data: states, roles, report kinds and the transition table.

This module is the one place that says who may do what in which state. The services
enforce it, the UI and the API list ``allowed_actions`` from it, the tests iterate it.
Guards are named here and implemented in ``workflow.guards``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DRAFT, TOWN_REVIEW, DISTRICT_REVIEW, PUBLISHED = "draft", "town_review", "district_review", "published"
STATES: tuple[str, ...] = (DRAFT, TOWN_REVIEW, DISTRICT_REVIEW, PUBLISHED)

AUTHOR, TOWN_REVIEWER, DISTRICT_REVIEWER, ADMIN = "author", "town_reviewer", "district_reviewer", "admin"
ROLES: tuple[str, ...] = (AUTHOR, TOWN_REVIEWER, DISTRICT_REVIEWER, ADMIN)

KINDS: tuple[str, ...] = ("annual_plan", "annual_report", "five_year_plan", "other")


class CommentStatus(StrEnum):
    """A comment's status. A reviewer's comment while the report waits on them is ``open``
    until the town answers it (``adopted`` or ``explained``); anyone else's is a ``note``."""

    NOTE = "note"
    OPEN = "open"
    ADOPTED = "adopted"
    EXPLAINED = "explained"


# The statuses an answer gives an open comment.
COMMENT_ANSWERS: tuple[CommentStatus, ...] = (CommentStatus.ADOPTED, CommentStatus.EXPLAINED)

# Org unit kinds. Reports belong to town-level units; archive numbers and signing keys
# belong to the nearest district-level ancestor.
DISTRICT_KINDS: tuple[str, ...] = ("district", "county")
TOWN_KINDS: tuple[str, ...] = ("town", "township", "subdistrict")
ORG_KINDS: tuple[str, ...] = ("province", "city") + DISTRICT_KINDS + TOWN_KINDS
# The level of each kind in the administrative tree: a unit sits below its parent's level
# (a 镇 under a 区/县 or a 市 without districts, never under another 镇).
ORG_KIND_LEVELS: dict[str, int] = {"province": 1, "city": 2} | dict.fromkeys(DISTRICT_KINDS, 3) | dict.fromkeys(
    TOWN_KINDS, 4)


def child_kinds(parent_kind: str) -> tuple[str, ...]:
    """The kinds a unit under a ``parent_kind`` may have, the usual one (a level below) first."""
    level = ORG_KIND_LEVELS.get(parent_kind, 0)
    return tuple(sorted((k for k in ORG_KINDS if ORG_KIND_LEVELS[k] > level),
                        key=lambda k: (ORG_KIND_LEVELS[k], ORG_KINDS.index(k))))

# Which org unit kinds a role may be held at.
ROLE_UNIT_KINDS: dict[str, tuple[str, ...]] = {
    AUTHOR: TOWN_KINDS,
    TOWN_REVIEWER: TOWN_KINDS,
    DISTRICT_REVIEWER: DISTRICT_KINDS,
    ADMIN: DISTRICT_KINDS + ("province", "city"),
}


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    role: str
    guards: tuple[str, ...] = ()
    needs_comment: bool = False
    # False for actions that are a possibility, not a duty (withdraw): they do not put
    # the report on the actor's to-do list.
    waits_on_role: bool = True


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", DRAFT, TOWN_REVIEW, AUTHOR, guards=("no_blocking_problems", "comments_answered")),
    Transition("withdraw", TOWN_REVIEW, DRAFT, AUTHOR, guards=("is_submitter",), waits_on_role=False),
    Transition("approve", TOWN_REVIEW, DISTRICT_REVIEW, TOWN_REVIEWER, guards=("not_submitter", "not_editor")),
    Transition("return", TOWN_REVIEW, DRAFT, TOWN_REVIEWER, guards=("reason_given",), needs_comment=True),
    Transition("approve", DISTRICT_REVIEW, PUBLISHED, DISTRICT_REVIEWER, guards=("not_submitter", "not_editor")),
    Transition("return", DISTRICT_REVIEW, DRAFT, DISTRICT_REVIEWER, guards=("reason_given",), needs_comment=True),
)

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))

# Who may edit the working draft (not a transition: it bumps the version, not the state).
EDIT_ROLE = AUTHOR
EDITABLE_STATES: tuple[str, ...] = (DRAFT,)


def transition_for(state: str, action: str) -> Transition | None:
    """The transition an action takes from a state, or None when the state does not allow it."""
    for t in TRANSITIONS:
        if t.source == state and t.action == action:
            return t
    return None


def transitions_from(state: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == state]
