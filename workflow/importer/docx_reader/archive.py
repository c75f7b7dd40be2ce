"""The .docx package, opened with bounds: a small upload must never cost a worker much.

A .docx is a zip of XML parts. A hostile one (a "zip bomb") declares or holds far more than
any report: three million empty paragraphs fit in 26 KiB. So, before anything is parsed, the
zip's directory is checked (member count, total declared size, the size and compression ratio
of the parts that are read), and while a part is parsed its elements are counted and the
clock is watched (:class:`Budget`). Each limit is far above what a real report needs.

Other formats are recognised by their first bytes and named in the refusal: Word 97–2003 and
WPS files (.doc, .wps, .et: OLE compound files), PDF and RTF.
"""
from __future__ import annotations

import io
import posixpath
import time
import zipfile
import zlib
from typing import IO

from lxml import etree

from ..errors import ContentError

__all__ = ["Budget", "Package", "open_package"]

MAX_MEMBERS = 2_000
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # declared, uncompressed, all members (images included)
MAX_PART_BYTES = 32 * 1024 * 1024  # one XML part that is read
MAX_RATIO = 200  # uncompressed / compressed, for a part over RATIO_FLOOR (real XML: 5–50)
RATIO_FLOOR = 1024 * 1024
MAX_ELEMENTS = 400_000  # all the parts read; a 300-page report has about 150,000
MAX_SECONDS = 8.0

_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".doc/.wps/.et"),
    (b"%PDF", ".pdf"),
    (b"{\\rtf", ".rtf"),
)


class Budget:
    """Elements and time left for reading one document; raises ``docx_too_complex``."""

    def __init__(self, elements: int = MAX_ELEMENTS, seconds: float = MAX_SECONDS) -> None:
        self._elements = elements
        self._deadline = time.monotonic() + seconds

    def spend(self, elements: int) -> None:
        self._elements -= elements
        if self._elements < 0:
            raise ContentError("docx_too_complex", limit=MAX_ELEMENTS)
        if time.monotonic() > self._deadline:
            raise ContentError("docx_too_complex", limit=MAX_ELEMENTS)


class Package:
    """The XML parts of an opened .docx, each parsed at most once, within the budget."""

    def __init__(self, archive: zipfile.ZipFile, budget: Budget) -> None:
        self._archive = archive
        self._names = {info.filename.lstrip("/"): info for info in archive.infolist()}
        self.budget = budget

    def main_part(self) -> str:
        """The document part named by the package relationships (``word/document.xml``)."""
        return self._target("_rels/.rels", "", "/officeDocument") or "word/document.xml"

    def related(self, kind: str) -> str | None:
        """The part of the main document's relationship of ``kind`` (``styles``, ``numbering``)."""
        main = self.main_part()
        folder, _, name = main.rpartition("/")
        rels = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
        return self._target(rels, folder, f"/{kind}")

    def _target(self, rels: str, folder: str, type_suffix: str) -> str | None:
        root = self.xml(rels)
        for rel in root.iterchildren(f"{{{_RELS}}}Relationship") if root is not None else ():
            target = rel.get("Target") or ""
            if (rel.get("Type") or "").endswith(type_suffix) and rel.get("TargetMode") != "External":
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target))
                return path
        return None

    def xml(self, name: str | None) -> etree._Element | None:
        """The parsed part ``name`` (e.g. ``word/document.xml``), or None when absent."""
        info = self._names.get(name) if name else None
        if info is None:
            return None
        _check_part(info)
        try:
            with self._archive.open(info) as stream:
                return _parse_counted(stream, self.budget)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            # damaged, encrypted or compressed with a method zipfile does not know
            raise ContentError("docx_unreadable") from exc


def open_package(data: bytes, budget: Budget | None = None) -> Package:
    """Open ``data`` as a .docx after checking the zip's directory against the bounds."""
    for signature, extension in _SIGNATURES:
        if data.startswith(signature):
            raise ContentError("docx_other_format", format=extension)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise ContentError("docx_unreadable") from exc
    if len(infos) > MAX_MEMBERS or sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise ContentError("docx_too_complex", limit=MAX_ELEMENTS)
    return Package(archive, budget or Budget())


def _check_part(info: zipfile.ZipInfo) -> None:
    """A part to be parsed: not over MAX_PART_BYTES, not compressed beyond MAX_RATIO."""
    if info.file_size > MAX_PART_BYTES:
        raise ContentError("docx_too_complex", limit=MAX_ELEMENTS)
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise ContentError("docx_too_complex", limit=MAX_ELEMENTS)


def _parse_counted(stream: IO[bytes], budget: Budget) -> etree._Element:
    """Parse XML incrementally, counting elements as they come (no entities, no network).

    zipfile stops at the declared size and checks the CRC, so a part cannot grow past the
    size checked in :func:`_check_part`.
    """
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True,
                                 huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        while chunk := stream.read(64 * 1024):
            parser.feed(chunk)
            budget.spend(sum(1 for _ in parser.read_events()))
        root = parser.close()
        budget.spend(sum(1 for _ in parser.read_events()))
    except etree.XMLSyntaxError as exc:
        raise ContentError("docx_unreadable") from exc
    return root
