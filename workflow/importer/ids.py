"""Id matching: section ids that stay stable from one version of a report to the next.

Fresh ids are ``"s"`` + 8 hex digits of a SHA-1 over the section's number path and heading
(plus a counter on collision): importing the same text twice gives the same ids. With
``previous`` (an earlier outline of the same report), ids are carried over in three passes,
each taking only what the earlier passes left:

1. :func:`same_heading`: a section whose heading is unchanged keeps its id wherever it moved
   (preferring the one at the same number path when the heading occurs more than once);
2. :func:`same_place`: a section at the same number path whose heading was edited;
3. :func:`similar_heading`: a section that moved *and* was edited, when its heading is still
   very similar.

A section's "heading" here is its heading without trailing punctuation, or the start of its
first paragraph when it has no heading. The previous outline comes from storage and is read
defensively: what is not a section with an id is skipped.
"""
from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from workflow.outline import Section, iter_sections

from .numbering import number_value, numbering_style

__all__ = ["PASSES", "Matching", "assign_ids", "same_heading", "same_place", "similar_heading"]

# A section's number path: ``(("cn", 2), ("paren_cn", 1))`` for 二、(一).
PathKey = tuple[tuple[str, int | str], ...]

_TRAILING_PUNCT = "。！？!?；;：:，, "
_SAME_PLACE_SIMILARITY = 0.4  # an edited heading at the same number path
_SIMILAR_HEADING = 0.75  # a moved and edited heading
_MIN_SIMILAR_LENGTH = 4  # shorter headings are too alike to match by similarity
# Pass 3 is quadratic, so bounded: beyond the bound (a wholesale rewrite) unmatched sections
# simply get fresh ids.
_MAX_FUZZY_PAIRS = 40_000


@dataclass(frozen=True)
class _Key:
    """What identifies a section for matching: its number path and its heading text."""

    path: PathKey
    text: str


def _number_key(section: Mapping[str, object]) -> tuple[str, int | str]:
    number = section.get("number")
    number = number if isinstance(number, str) else ""
    value = number_value(number)
    return (numbering_style(number), value if value is not None else number.strip())


def _key(section: Mapping[str, object], parents: Sequence[Mapping[str, object]]) -> _Key:
    path = tuple(_number_key(s) for s in (*parents, section))
    return _Key(path, _match_text(section))


def _match_text(section: Mapping[str, object]) -> str:
    """Its heading without trailing punctuation, else the start of its first paragraph."""
    heading = section.get("heading")
    heading = heading.strip().rstrip(_TRAILING_PUNCT) if isinstance(heading, str) else ""
    if heading:
        return heading
    paragraphs = section.get("paragraphs")
    if isinstance(paragraphs, list) and paragraphs and isinstance(paragraphs[0], str):
        return paragraphs[0].strip()[:40]
    return ""


def _stored_sections(sections: object, parents: tuple[Mapping[str, object], ...] = ()
                     ) -> Iterator[tuple[Mapping[str, object], tuple[Mapping[str, object], ...]]]:
    """Like :func:`iter_sections`, for a stored outline that is not trusted to be well formed."""
    if not isinstance(sections, list):
        return
    for section in sections:
        if isinstance(section, dict):
            yield section, parents
            yield from _stored_sections(section.get("children"), (*parents, section))


def _previous_ids(previous: object) -> list[tuple[str, _Key]]:
    """``(id, key)`` of every section of ``previous`` that has an id, in document order."""
    if not isinstance(previous, dict):
        return []
    return [(section_id, _key(s, parents))
            for s, parents in _stored_sections(previous.get("sections"))
            if isinstance(section_id := s.get("id"), str) and section_id]


@dataclass
class Matching:
    """The state the passes share: the new sections, the old ids, and who got which."""

    new: list[tuple[Section, _Key]]
    old: list[tuple[str, _Key]]
    assigned: dict[int, str] = field(default_factory=dict)  # new index → id
    used_old: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, sections: list[Section], previous: object) -> Matching:
        """Nothing matched yet between ``sections`` and the sections of ``previous``."""
        return cls(new=[(s, _key(s, parents)) for s, parents in iter_sections(sections)],
                   old=_previous_ids(previous))

    def unmatched(self) -> list[int]:
        """Indexes of the new sections without an id yet."""
        return [i for i in range(len(self.new)) if i not in self.assigned]

    def free_old(self) -> list[int]:
        """Indexes of the old sections whose id is still to be had."""
        return [j for j in range(len(self.old)) if j not in self.used_old]

    def claim(self, index: int, old_index: int) -> None:
        """New section ``index`` keeps the id of old section ``old_index``."""
        self.assigned[index] = self.old[old_index][0]
        self.used_old.add(old_index)


def same_heading(matching: Matching) -> None:
    """Pass 1: the same heading, preferably at the same number path (survives renumbering and
    moves)."""
    for index in matching.unmatched():
        key = matching.new[index][1]
        if not key.text:
            continue
        candidates = [j for j in matching.free_old() if matching.old[j][1].text == key.text]
        if candidates:
            same_path = [j for j in candidates if matching.old[j][1].path == key.path]
            matching.claim(index, (same_path or candidates)[0])


def same_place(matching: Matching) -> None:
    """Pass 2: the same number path with an edited heading (the first similar enough)."""
    for index in matching.unmatched():
        key = matching.new[index][1]
        found = next((j for j in matching.free_old()
                      if matching.old[j][1].path == key.path
                      and _similarity(key.text, matching.old[j][1].text) >= _SAME_PLACE_SIMILARITY),
                     None)
        if found is not None:
            matching.claim(index, found)


def similar_heading(matching: Matching) -> None:
    """Pass 3: moved and edited, but still clearly the same heading (the most similar one)."""
    pending = [i for i in matching.unmatched()
               if len(matching.new[i][1].text) >= _MIN_SIMILAR_LENGTH]
    free = matching.free_old()
    if len(pending) * len(free) > _MAX_FUZZY_PAIRS:
        return
    for index in pending:
        candidates = [(j, matching.old[j][1].text) for j in free if j not in matching.used_old]
        found = _most_similar(matching.new[index][1].text, candidates)
        if found is not None:
            matching.claim(index, found)


PASSES: tuple[Callable[[Matching], None], ...] = (same_heading, same_place, similar_heading)


def _similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.4 or matcher.quick_ratio() < 0.4:
        return 0.0
    return matcher.ratio()


def _most_similar(text: str, candidates: list[tuple[int, str]]) -> int | None:
    """The candidate most similar to ``text`` (the first of equals), if similar enough."""
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(text)  # the expensive side is indexed once per new heading
    best, best_j = 0.0, None
    for j, old_text in candidates:
        # A cheap bound first: very different lengths cannot be similar enough.
        if 2 * min(len(text), len(old_text)) < _SIMILAR_HEADING * (len(text) + len(old_text)):
            continue
        matcher.set_seq1(old_text)
        if matcher.quick_ratio() >= _SIMILAR_HEADING:
            ratio = matcher.ratio()
            if ratio > best:
                best, best_j = ratio, j
    return best_j if best >= _SIMILAR_HEADING else None


def _fresh_id(path: PathKey, heading: str, taken: set[str]) -> str:
    counter = 0
    while True:
        digest = hashlib.sha1(f"{path!r}\x1f{heading}\x1f{counter}".encode()).hexdigest()
        candidate = "s" + digest[:8]
        if candidate not in taken:
            return candidate
        counter += 1


def assign_ids(sections: list[Section], previous: object = None, keep_existing: bool = False) -> None:
    """Give every section an id, in place: reused from ``previous`` when it matches, else fresh.

    ``keep_existing`` keeps ids already present (client outlines) and fills only the gaps.
    """
    matching = Matching.of(sections, previous)
    if keep_existing:
        matching.assigned.update((index, section["id"])
                                 for index, (section, _) in enumerate(matching.new) if section["id"])
    for match in PASSES:
        match(matching)
    _give_ids(matching)


def _give_ids(matching: Matching) -> None:
    """Write the matched ids into the sections, and fresh ids where nothing matched."""
    taken = {old_id for old_id, _ in matching.old} | set(matching.assigned.values())
    for index, (section, key) in enumerate(matching.new):
        if index not in matching.assigned:
            matching.assigned[index] = _fresh_id(key.path, section.get("heading", ""), taken)
        taken.add(matching.assigned[index])
        section["id"] = matching.assigned[index]
