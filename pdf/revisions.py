"""What a PDF holds beyond its signatures: every incremental update after a signed
revision is named and judged, and so are the bytes after the last one.

A signature covers its own revision only. PAdES lets a file grow afterwards by exactly
two kinds of update, which Chengbao itself makes (:mod:`pdf.signing`): a document
security store (``/DSS``: certificates and CRLs that keep the signature verifiable) and
a document timestamp (a ``/DocTimeStamp`` signature, whose own revision it covers). Any
other update — a rewritten document information dictionary, an annotation, a new page
content stream, an update that changes nothing at all — and any byte after the final
``%%EOF`` means the file is not the one that was signed.

pyHanko's difference analysis (``ModificationLevel``) judges the *objects* a revision
changes, but it lets an update that only rewrites ``/Info`` or changes nothing pass as
"LTA updates", and it does not look past the last ``%%EOF``; this module closes those
gaps. It leans on pyHanko's reader for the revisions and their cross-reference data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

__all__ = ["BYTES_AFTER_END", "CATALOG_CHANGED", "CATALOG_REPLACED", "EMPTY_UPDATE", "INFO_CHANGED", "OBJECTS_ADDED",
           "Change", "revision_ends", "unexplained_changes"]

# The kinds of change (each a ``verify.<kind>`` message).
INFO_CHANGED = "info_changed"  # the document information dictionary differs from the signed one
EMPTY_UPDATE = "empty_update"  # an update that adds nothing a verifier may accept
BYTES_AFTER_END = "bytes_after_end"  # bytes after the last %%EOF (params: bytes)
CATALOG_REPLACED = "catalog_replaced"  # the trailer points at another catalog, or adds encryption
OBJECTS_ADDED = "objects_added"  # objects outside the DSS added or replaced (params: count)
CATALOG_CHANGED = "catalog_changed"  # catalog entries other than /DSS and /Extensions changed

# Keys of the document information dictionary that a writer updates on every save
# (pyHanko's own incremental updates among them); any other key must keep its signed value.
_VOLATILE_INFO_KEYS = frozenset({"/ModDate", "/Producer"})
# What a DSS update may change in the catalog (``/Extensions``: the ESIC extension level).
_DSS_CATALOG_KEYS = frozenset({"/DSS", "/Extensions"})
# What ends a revision after its cross-reference data: the trailer dictionary (xref
# tables; pyHanko's end offset lies after the keyword "trailer"), then ``startxref``.
_TRAILER = re.compile(rb"\s*(?:trailer\s*)?(?:<<.*?>>\s*)?\Z", re.S)
_STARTXREF_TO_EOF = re.compile(rb"startxref\s+(\d+)\s+%%EOF(?:\r\n|\r|\n)?")


@dataclass(frozen=True)
class Change:
    """One thing in the file that no signature covers: ``kind`` names it (the message key
    ``verify.<kind>``), ``params`` the details (the revision, counted from 1)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


def unexplained_changes(reader: PdfFileReader, data: bytes, signed_revision: int,
                        timestamp_revisions: set[int]) -> list[Change]:
    """Every change after ``signed_revision`` (0-based, as pyHanko counts) that is neither
    a DSS update nor a document timestamp (``timestamp_revisions``: the revisions the
    file's document timestamps sign), plus bytes after the end of the last revision."""
    changes: list[Change] = []
    signed = reader.get_historical_resolver(signed_revision)
    total = reader.xrefs.total_revisions
    for revision in range(signed_revision + 1, total):
        current = reader.get_historical_resolver(revision)
        previous = reader.get_historical_resolver(revision - 1)
        changes.extend(_trailer_changes(signed, current, revision))
        written = current.explicit_refs_in_revision()
        if revision in timestamp_revisions:
            continue  # the timestamp covers it; pyHanko's diff analysis judges its objects
        if not written:
            changes.append(Change(EMPTY_UPDATE, {"revision": revision + 1}))
            continue
        changes.extend(_non_dss_objects(previous, current, written, revision))
    tail = _bytes_after_end(reader, data)
    if tail:
        changes.append(Change(BYTES_AFTER_END, {"bytes": tail}))
    return changes


def _info_ref(resolver: HistoricalResolver) -> Any:
    trailer = resolver.trailer_view
    return trailer.raw_get("/Info") if "/Info" in trailer else None


def _trailer_changes(signed: HistoricalResolver, current: HistoricalResolver, revision: int) -> list[Change]:
    """The trailer must keep the signed catalog and information dictionary, and the latter
    its signed values (save for the modification date and producer)."""
    found = []
    trailer, signed_trailer = current.trailer_view, signed.trailer_view
    if trailer.raw_get("/Root") != signed_trailer.raw_get("/Root") or "/Encrypt" in trailer:
        found.append(Change(CATALOG_REPLACED, {"revision": revision + 1}))
    info_ref, signed_ref = _info_ref(current), _info_ref(signed)
    if info_ref != signed_ref:
        found.append(Change(INFO_CHANGED, {"revision": revision + 1}))
    elif isinstance(info_ref, generic.IndirectObject):
        now, then = _info_values(current, info_ref), _info_values(signed, info_ref)
        if now != then:
            found.append(Change(INFO_CHANGED, {"revision": revision + 1}))
    return found


def _info_values(resolver: HistoricalResolver, ref: generic.IndirectObject) -> dict[str, str] | None:
    obj = resolver(ref.reference)
    if not isinstance(obj, generic.DictionaryObject):
        return None
    return {key: str(value) for key, value in obj.items() if key not in _VOLATILE_INFO_KEYS}


def _non_dss_objects(previous: HistoricalResolver, current: HistoricalResolver, written: set,
                     revision: int) -> list[Change]:
    """A revision that is not a document timestamp may only add or replace the DSS: the
    catalog (with nothing but ``/DSS`` and ``/Extensions`` changed), the information
    dictionary (judged with the trailer), the DSS dictionary and arrays the previous
    revision already had, and objects new in this revision that the DSS reaches. An
    object the document had before, other than those, is never "part of the DSS"."""
    root_ref = current.trailer_view.raw_get("/Root")
    info_ref = _info_ref(current)
    if not isinstance(root_ref, generic.IndirectObject):
        return [Change(CATALOG_REPLACED, {"revision": revision + 1})]
    root_before, root_now = previous(root_ref.reference), current(root_ref.reference)
    if not (isinstance(root_now, generic.DictionaryObject) and isinstance(root_before, generic.DictionaryObject)):
        return [Change(CATALOG_REPLACED, {"revision": revision + 1})]
    if root_ref.reference in written:
        changed = {k for k in set(root_now) | set(root_before) if _raw(root_now, k) != _raw(root_before, k)}
        if changed - _DSS_CATALOG_KEYS:
            return [Change(CATALOG_CHANGED, {"revision": revision + 1})]
    dss_refs = _dss_containers(root_before) | _dss_containers(root_now) - {root_ref.reference}
    dss_refs = {ref for ref in dss_refs if ref in _dss_containers(root_before) or _is_new(current, ref)}
    if "/DSS" in root_now:
        dss_refs |= {ref for ref in current.collect_dependencies(root_now["/DSS"], since_revision=current.revision)
                     if _is_new(current, ref)}
    allowed = {root_ref.reference} | dss_refs
    if isinstance(info_ref, generic.IndirectObject):
        allowed.add(info_ref.reference)
    extra = {ref for ref in written if ref not in allowed}
    if extra:
        return [Change(OBJECTS_ADDED, {"revision": revision + 1, "count": len(extra)})]
    if not written & (dss_refs | {root_ref.reference}):
        return [Change(EMPTY_UPDATE, {"revision": revision + 1})]
    return []


def _is_new(resolver: HistoricalResolver, ref: Any) -> bool:
    """True when ``ref`` first appears in the resolver's revision."""
    try:
        return resolver.reader.xrefs.get_introducing_revision(ref) == resolver.revision
    except KeyError:
        return False


def _dss_containers(root: generic.DictionaryObject) -> set:
    """The references of the DSS dictionary and of its arrays and VRI dictionary."""
    found: set = set()
    if "/DSS" not in root:
        return found
    raw = root.raw_get("/DSS")
    if isinstance(raw, generic.IndirectObject):
        found.add(raw.reference)
    dss = root["/DSS"]
    if isinstance(dss, generic.DictionaryObject):
        for key in ("/Certs", "/CRLs", "/OCSPs", "/VRI"):
            value = _raw(dss, key)
            if isinstance(value, generic.IndirectObject):
                found.add(value.reference)
    return found


def _raw(dictionary: generic.DictionaryObject, key: str) -> Any:
    return dictionary.raw_get(key) if key in dictionary else None


def revision_ends(reader: PdfFileReader, data: bytes, first: int = 0) -> list[int]:
    """Where each revision from ``first`` on ends (just after its ``%%EOF`` and line end):
    the file as it was after that revision is ``data[:end]``."""
    ends = []
    for revision in range(first, reader.xrefs.total_revisions):
        meta = reader.xrefs.get_xref_container_info(revision)
        position = data.find(b"startxref", meta.end_location)
        end = _STARTXREF_TO_EOF.match(data, position) if position >= 0 else None
        if end is not None:
            ends.append(end.end())
    return ends


def _bytes_after_end(reader: PdfFileReader, data: bytes) -> int:
    """How many bytes follow the end of the last revision: its trailer, ``startxref``
    pointing at its cross-reference data, and ``%%EOF`` with one line end."""
    last = reader.xrefs.total_revisions - 1
    meta = reader.xrefs.get_xref_container_info(last)
    position = data.find(b"startxref", meta.end_location)
    if position < 0 or not _TRAILER.match(data[meta.end_location:position]):
        return len(data) - meta.end_location
    end = _STARTXREF_TO_EOF.match(data, position)
    if end is None or int(end.group(1)) != meta.declared_startxref:
        return len(data) - position
    return len(data) - end.end()
