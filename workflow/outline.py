"""The shape of a report's content: an outline of numbered sections (see CONTRACT.md).

::

    {"preamble": [str], "sections": [section], "closing": [str], "annex"?: [str]}
    section = {"id": str, "level": int, "number": str, "heading": str,
               "paragraphs": [str], "children": [section], "run_in"?: true}

* ``level`` is the depth in the tree (1 = top level), whatever numbering style is used.
* ``number`` is the heading number exactly as written, including any space the author put
  after it (``"一、"``, ``"(一)"``, ``"（一）"``, ``"1."``, ``"1、"``, ``"1．"``, ``"(1)"``,
  ``"（1）"``, ``"1. "``); ``""`` for a section a client sent without a number.
* ``run_in`` (optional, only ever ``true``) marks a heading that shared its line with the
  first paragraph, as in ``1.聚拓展镇域经济新空间。一是做强项目支撑…``: the heading keeps its
  closing punctuation and ``paragraphs[0]`` is the rest of the line, so the line is exactly
  ``number + heading + paragraphs[0]``.

``annex`` (optional, absent when empty) holds the annexes (附件) as lines: the list
``附件：1. …`` that stands before the sign-off and the annexes' text after it, in that order;
the text of an outline writes them after the closing.

Outlines are stored as JSON; these types describe what the importer produces and what
:func:`workflow.importer.validate_outline` returns. An outline read back from storage is
trusted to have this shape (it was validated on the way in).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NotRequired, TypedDict

__all__ = ["Outline", "Section", "empty_outline", "iter_sections"]


class Section(TypedDict):
    """One numbered section of an outline, with its sub-sections in ``children``."""

    id: str
    level: int
    number: str
    heading: str
    paragraphs: list[str]
    children: list[Section]
    run_in: NotRequired[bool]


class Outline(TypedDict):
    """A report's content: text before the first heading, the sections, the sign-off lines,
    the annexes."""

    preamble: list[str]
    sections: list[Section]
    closing: list[str]
    annex: NotRequired[list[str]]


def empty_outline() -> Outline:
    """An outline with nothing in it."""
    return {"preamble": [], "sections": [], "closing": []}


def iter_sections(sections: list[Section], parents: tuple[Section, ...] = ()
                  ) -> Iterator[tuple[Section, tuple[Section, ...]]]:
    """Yield ``(section, ancestors)`` for every section in document (pre-)order."""
    for section in sections:
        yield section, parents
        children = section.get("children")
        if isinstance(children, list):
            yield from iter_sections(children, (*parents, section))
