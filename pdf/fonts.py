"""The PDF fonts: configuration, one-time registration with ReportLab, glyph coverage.

Four roles, as GB/T 9704-2012 names them: ``body`` (仿宋), ``heiti`` (黑体, first-level
headings), ``kaiti`` (楷体, second-level headings) and ``title`` (小标宋, the title and the
发文机关标志). Each role points at a TrueType file (``.ttf`` or a ``.ttc`` collection plus
a subfont index), so an office that owns licensed 方正 fonts points at those; the free
defaults are Debian's AR PL and WenQuanYi fonts.

No free simplified-Chinese 仿宋 that ReportLab can embed is packaged for Debian, PyPI or npm
(see README, "The PDF's layout"): Fandol and Noto Serif CJK have CFF outlines, which ``TTFont``
refuses; cwTeX 仿宋 covers Big5 only. For the title, ``scripts/noto_title_font.py`` converts
Noto Serif CJK SC Bold to TrueType outlines (:data:`NOTO_TITLE`), used when present.

Fonts are embedded as TrueType subsets with a ToUnicode map (ReportLab ``TTFont``), so
``pdftotext`` gives the text back. ReportLab's built-in CID font STSong-Light is never
used: it is not embedded and renders differently on every machine.

Registration parses a 20 MB collection (≈50 ms per face, ≈90 MB for the four faces), so
faces are loaded once per process and shared by every render. The missing-glyph check of
the web processes needs only the body face's character map: :func:`missing_glyphs` reads
that table alone (a few kilobytes of the file), unless the face is loaded already.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import sys
import tempfile
import threading
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from workflow.errors import Invalid

if TYPE_CHECKING:  # ReportLab is imported when a face is loaded: the coverage check needs none of it
    from reportlab.pdfbase.ttfonts import TTFont

__all__ = [
    "CodePoints",
    "FontConfig",
    "FontFile",
    "FontsMissing",
    "LoadedFont",
    "clean_text",
    "coverage_check",
    "glyph_path",
    "load_fonts",
    "missing_glyphs",
]

log = logging.getLogger(__name__)

ROLES = ("body", "heiti", "kaiti", "title")

_ARPHIC = Path("/usr/share/fonts/truetype/arphic")
_WQY = Path("/usr/share/fonts/truetype/wqy")

# Which Debian package ships each default file, for the error message.
_DEBIAN_PACKAGES = {
    str(_ARPHIC / "uming.ttc"): "fonts-arphic-uming",
    str(_ARPHIC / "ukai.ttc"): "fonts-arphic-ukai",
    str(_WQY / "wqy-microhei.ttc"): "fonts-wqy-microhei",
    str(_WQY / "wqy-zenhei.ttc"): "fonts-wqy-zenhei",
}

_ALL_DEFAULTS = "apt-get install fonts-arphic-uming fonts-arphic-ukai fonts-wqy-microhei"

# The title face when it has been made (``WITH_TITLE_FONT=1 scripts/system-deps.sh``): Noto
# Serif CJK SC Bold from Debian's fonts-noto-cjk, converted to TrueType outlines by
# scripts/noto_title_font.py — a heavy 宋体 much closer to 小标宋 than emboldened UMing.
NOTO_TITLE = Path("/usr/local/share/fonts/chengbao/NotoSerifCJKsc-Bold.ttf")


class FontsMissing(Invalid):
    """A configured font file is absent or unreadable. Reasons: ``font_file_missing``,
    ``font_unreadable`` (``error`` names the parser's complaint), ``font_no_unicode_map``;
    params: the ``role``, the ``path`` and ``subfont``, and the ``install`` command."""

    def __init__(self, reason: str, role: str, file: FontFile, **params: Any) -> None:
        package = _DEBIAN_PACKAGES.get(file.path)
        super().__init__(reason, role=role, path=file.path, subfont=file.subfont,
                         install=f"apt-get install {package}" if package else _ALL_DEFAULTS, **params)


@dataclass(frozen=True)
class FontFile:
    """One face: a TrueType file, the face's index inside a ``.ttc`` collection, and an
    optional synthetic emboldening (stroke width as a fraction of the type size) for a
    light face standing in for a heavy one (AR PL UMing standing in for 小标宋)."""

    path: str
    subfont: int = 0
    embolden: float = 0.0


@dataclass(frozen=True)
class FontConfig:
    """The four faces of a document. ``FontConfig.default()`` uses Debian's free fonts."""

    body: FontFile
    heiti: FontFile
    kaiti: FontFile
    title: FontFile

    @classmethod
    def default(cls) -> FontConfig:
        # UMing/UKai "CN" faces (index 0) have mainland punctuation placement (，。 sit
        # low left); UMing is a 明体/宋体 design: the closest free relative of 仿宋 and,
        # emboldened, of 小标宋. WenQuanYi Micro Hei is a clean 黑体.
        # The title: Noto Serif CJK SC Bold when converted (see NOTO_TITLE), else UMing
        # emboldened.
        uming = str(_ARPHIC / "uming.ttc")
        title = FontFile(str(NOTO_TITLE), 0) if NOTO_TITLE.is_file() else FontFile(uming, 0, embolden=0.035)
        return cls(
            body=FontFile(uming, 0),
            heiti=FontFile(str(_WQY / "wqy-microhei.ttc"), 0),
            kaiti=FontFile(str(_ARPHIC / "ukai.ttc"), 0),
            title=title,
        )

    @classmethod
    def from_settings(cls, config: Mapping[str, Any]) -> FontConfig:
        """The faces the application's configuration names: ``PDF_FONTS`` (a mapping, see
        :meth:`from_mapping`), else the ``FONT_BODY`` … ``FONT_TITLE`` paths, else the defaults."""
        mapping = dict(config.get("PDF_FONTS") or {})
        for role in ROLES:
            path = config.get(f"FONT_{role.upper()}")
            if path and role not in mapping:
                mapping[role] = path
        return cls.from_mapping(mapping)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> FontConfig:
        """Build a config from application settings (e.g. ``PDF_FONTS``): each role maps
        to a path, a ``(path, subfont)`` pair or ``{"path", "subfont", "embolden"}``;
        roles left out keep their defaults."""
        base = cls.default()
        if not mapping:
            return base
        unknown = set(mapping) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown font roles {sorted(unknown)}; expected {ROLES}")
        chosen: dict[str, FontFile] = {}
        for role in ROLES:
            value = mapping.get(role)
            if value is None:
                chosen[role] = getattr(base, role)
            elif isinstance(value, FontFile):
                chosen[role] = value
            elif isinstance(value, (str, Path)):
                chosen[role] = FontFile(str(value))
            elif isinstance(value, Mapping):
                chosen[role] = FontFile(str(value["path"]), int(value.get("subfont", 0)),
                                        float(value.get("embolden", 0.0)))
            else:
                path, subfont = value
                chosen[role] = FontFile(str(path), int(subfont))
        return cls(**chosen)

    def role(self, name: str) -> FontFile:
        return getattr(self, name)


@dataclass(frozen=True, eq=False)
class LoadedFont:
    """A face registered with ReportLab under ``name``, with its metrics and coverage."""

    name: str
    file: FontFile
    widths: Mapping[int, float]  # code point → advance in 1/1000 em
    default_width: float
    cmap: frozenset[int]
    units_per_em: int
    ttfont: TTFont

    def advance(self, ch: str, size: float) -> float:
        """Advance width of ``ch`` at ``size`` pt (without any character spacing)."""
        return self.widths.get(ord(ch), self.default_width) * size / 1000.0


_lock = threading.Lock()
_loaded: dict[tuple[str, int], LoadedFont] = {}


def _load(role: str, file: FontFile) -> LoadedFont:
    key = (file.path, file.subfont)
    font = _loaded.get(key)
    if font is not None:
        return font
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    with _lock:
        font = _loaded.get(key)
        if font is not None:
            return font
        if not Path(file.path).is_file():
            raise FontsMissing("font_file_missing", role, file)
        digest = hashlib.sha1(f"{file.path}\0{file.subfont}".encode()).hexdigest()[:8]
        name = f"Chengbao-{Path(file.path).stem}-{file.subfont}-{digest}"
        try:
            ttfont = TTFont(name, file.path, subfontIndex=file.subfont)
        except (TTFError, OSError, ValueError) as exc:
            raise FontsMissing("font_unreadable", role, file, error=str(exc)) from exc
        face = ttfont.face
        if not face.charToGlyph:
            raise FontsMissing("font_no_unicode_map", role, file)
        _subset_without_copying_glyf(face)
        pdfmetrics.registerFont(ttfont)
        font = LoadedFont(
            name=name,
            file=file,
            widths=dict(face.charWidths),
            default_width=float(face.defaultWidth),
            cmap=frozenset(face.charToGlyph),
            units_per_em=int(face.unitsPerEm),
            ttfont=ttfont,
        )
        _loaded[key] = font
        return font


class _TableView:
    """A font table as ReportLab's subsetter reads its ``glyf`` table (slices, each copied
    as bytes), over the font file's bytes without copying the table whole."""

    __slots__ = ("_view",)

    def __init__(self, view: memoryview) -> None:
        self._view = view

    def __getitem__(self, index: Any) -> Any:
        part = self._view[index]
        return part.tobytes() if isinstance(part, memoryview) else part

    def __len__(self) -> int:
        return len(self._view)


def _subset_without_copying_glyf(face: Any) -> None:
    """ReportLab's ``makeSubset`` copies the face's whole ``glyf`` table (megabytes for a
    CJK face) to take the few hundred glyphs a document uses, on every save and for each
    face: ≈5–10 ms a face, more in a freshly forked work horse (every page of the copy is
    a new page). Its ``get_table('glyf')`` answers a view instead; every other table as before."""
    data = getattr(face, "_ttf_data", None)
    if not isinstance(data, bytes):
        return
    whole = memoryview(data)
    original = face.get_table

    def get_table(tag: str) -> Any:
        if tag != "glyf":
            return original(tag)
        pos, length = face.get_table_pos(tag)
        return _TableView(whole[pos:pos + length])

    face.get_table = get_table


def load_fonts(config: FontConfig | None = None) -> dict[str, LoadedFont]:
    """The four faces of ``config`` (default: Debian's), registered with ReportLab.

    Raises :class:`FontsMissing` naming the file and the Debian package to install."""
    config = config or FontConfig.default()
    return {f.name: _load(f.name, getattr(config, f.name)) for f in fields(config)}


# ---- text hygiene ---------------------------------------------------------------------------

# Control (Cc), format (Cf: BOM, zero-width and bidi controls) and lone surrogates (Cs)
# are dropped: they have no glyph, and bidi overrides could make the printed text differ
# from the stored one. Tabs and line breaks become spaces.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_AS_SPACE = frozenset("\t\n\r\v\f\u2028\u2029\x85")
_SPACES = re.compile(" {2,}")


@lru_cache(maxsize=4096)
def _dropped(ch: str) -> bool:
    return ch not in _AS_SPACE and unicodedata.category(ch) in _DROP_CATEGORIES


def clean_text(text: str) -> str:
    """``text`` as it will be printed: control and format characters removed, line
    breaks and tabs turned into spaces, runs of spaces collapsed, ends trimmed."""
    if not text:
        return ""
    out = "".join(" " if ch in _AS_SPACE else ch for ch in text if not _dropped(ch))
    return _SPACES.sub(" ", out).strip()


def missing_glyphs(text: str, fonts: FontConfig | None = None, cache_dir: str | Path | None = None) -> set[str]:
    """The characters of ``text`` that the body font cannot draw (they would print as
    empty boxes). Whitespace and the control characters the renderer drops are ignored.

    Headings fall back to the body face for characters their own face lacks, so the
    body face's coverage is the one that matters. ``cache_dir``: where the face's code
    points are kept between processes (see :func:`coverage_check`). Raises :class:`FontsMissing`."""
    covered = _coverage("body", (fonts or FontConfig.default()).body, cache_dir)
    return {ch for ch in set(text)
            if ord(ch) not in covered and not ch.isspace() and not _dropped(ch)}


def coverage_check(fonts: FontConfig, cache_dir: str | Path | None = None) -> Callable[[str], set[str]] | None:
    """:func:`missing_glyphs` bound to ``fonts``, for the content checks of ``workflow``
    (``workflow.content.set_glyph_coverage``); None, logged, when the body face cannot be
    read here (then ``missing_glyph`` is not computed; the PDF job would fail loudly).

    No ReportLab font is loaded: the body face's code points come from its ``cmap`` table,
    kept as sorted ranges (a few kilobytes where a set of the ≈24,000 code points of AR PL
    UMing takes 2.3 MB in every process) and, with ``cache_dir`` (the app passes
    ``INSTANCE_DIR/font-coverage``), in a file named after the font's path, subfont, size
    and modification time: read once per process, built once per font file."""
    try:
        _coverage("body", fonts.body, cache_dir)
    except FontsMissing as exc:
        log.warning("missing-glyph check unavailable: %s", exc)
        return None

    def check(text: str) -> set[str]:
        return missing_glyphs(text, fonts, cache_dir)

    return check


# ---- character maps, read without loading the face ------------------------------------------


class CodePoints:
    """A set of code points as sorted, disjoint, non-adjacent ranges ``[start, end]``."""

    __slots__ = ("ends", "starts")

    def __init__(self, ranges: list[tuple[int, int]] | tuple[()] = ()) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = array("I", (start for start, _ in merged))
        self.ends = array("I", (end for _, end in merged))

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        i = bisect_right(self.starts, code) - 1
        return i >= 0 and code <= self.ends[i]

    def __len__(self) -> int:
        return sum(end - start + 1 for start, end in zip(self.starts, self.ends))

    def __iter__(self) -> Iterator[int]:
        for start, end in zip(self.starts, self.ends):
            yield from range(start, end + 1)

    def to_bytes(self) -> bytes:
        """Starts then ends, little-endian 32-bit, behind a magic and the range count."""
        starts, ends = array("I", self.starts), array("I", self.ends)
        if sys.byteorder != "little":  # pragma: no cover - big-endian machines
            starts.byteswap()
            ends.byteswap()
        return _CACHE_MAGIC + struct.pack("<I", len(starts)) + starts.tobytes() + ends.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> CodePoints:
        if data[:len(_CACHE_MAGIC)] != _CACHE_MAGIC:
            raise ValueError("not a code point cache")
        (count,) = struct.unpack_from("<I", data, len(_CACHE_MAGIC))
        body = data[len(_CACHE_MAGIC) + 4:]
        if len(body) != 8 * count:
            raise ValueError("truncated code point cache")
        found = cls()
        found.starts.frombytes(body[:4 * count])
        found.ends.frombytes(body[4 * count:])
        if sys.byteorder != "little":  # pragma: no cover
            found.starts.byteswap()
            found.ends.byteswap()
        if any(a > b for a, b in zip(found.starts, found.ends)) or list(found.starts) != sorted(found.starts):
            raise ValueError("code point cache out of order")
        return found


_CACHE_MAGIC = b"chengbao-cmap/1\n"
_coverages: dict[tuple[str, int], CodePoints | frozenset[int]] = {}


def _coverage(role: str, file: FontFile, cache_dir: str | Path | None = None) -> CodePoints | frozenset[int]:
    """The code points ``file`` maps, as the renderer's :class:`LoadedFont` ``cmap`` has them:
    the loaded face's when this process renders, else the ``cmap`` table's (from the cache
    file in ``cache_dir`` when it is there and the font file has not changed since)."""
    key = (file.path, file.subfont)
    found = _loaded.get(key)
    if found is not None:
        return found.cmap
    covered = _coverages.get(key)
    if covered is None:
        covered = _cached_or_read(file, Path(cache_dir) if cache_dir else None)
        # A character map this reader does not parse: load the face (which says what is wrong).
        if covered is None:
            covered = _load(role, file).cmap
        _coverages[key] = covered
    return covered


def _cache_name(file: FontFile) -> str | None:
    """The cache file's name: a digest of the font's path, subfont, size and modification time."""
    try:
        stat = os.stat(file.path)
    except OSError:
        return None
    key = f"{file.path}\0{file.subfont}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return f"{Path(file.path).stem}-{file.subfont}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.cmap"


def _cached_or_read(file: FontFile, cache_dir: Path | None) -> CodePoints | None:
    """The face's code points from the cache file, else read from the font (and cached);
    None when the ``cmap`` table is not one this reader parses (or the file is unreadable)."""
    name = _cache_name(file) if cache_dir is not None else None
    if cache_dir is not None and name is not None:
        try:
            return CodePoints.from_bytes((cache_dir / name).read_bytes())
        except (OSError, ValueError, struct.error):
            pass  # absent, or damaged: read the font again
    try:
        with open(file.path, "rb") as fh:
            ranges = _read_cmap_ranges(fh, file.subfont)
    except (OSError, ValueError, struct.error):
        return None
    if ranges is None:
        return None
    covered = CodePoints(ranges)
    if cache_dir is not None and name is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".cmap-", delete=False) as tmp:
                tmp.write(covered.to_bytes())
            os.replace(tmp.name, cache_dir / name)  # atomic: a concurrent reader sees all or nothing
        except OSError as exc:
            log.info("font coverage not cached in %s: %s", cache_dir, exc)
    return covered


def _read_cmap(fh: IO[bytes], subfont: int) -> frozenset[int] | None:
    """The code points of a TrueType face's character map (see :func:`_read_cmap_ranges`)."""
    ranges = _read_cmap_ranges(fh, subfont)
    return None if ranges is None else frozenset(CodePoints(ranges))


def _read_cmap_ranges(fh: IO[bytes], subfont: int) -> list[tuple[int, int]] | None:
    """The code point ranges of a TrueType face's character map, reading only the table
    directory and the ``cmap`` table; the same subtable and the same code points as
    ReportLab's ``TTFontFile`` (which builds ``charToGlyph``). None for a subtable
    format other than 4 and 12 (the Unicode BMP and full-repertoire formats)."""
    reader = _Reader(fh)
    cmap = _table_offset(reader, _face_offset(reader, subfont), b"cmap")
    table = cmap + _unicode_subtable(reader, cmap)
    (fmt,) = reader.unpack(table, ">H")
    if fmt == 4:
        (seg_x2,) = reader.unpack(table + 6, ">H")
        ends = struct.unpack(f">{seg_x2 // 2}H", reader.bytes(table + 14, seg_x2))
        starts = struct.unpack(f">{seg_x2 // 2}H", reader.bytes(table + 16 + seg_x2, seg_x2))
        ranges = [(start, end) for start, end in zip(starts, ends) if start <= end]
    elif fmt == 12:
        (groups,) = reader.unpack(table + 12, ">I")
        ranges = [(start, end) for start, end, _ in struct.iter_unpack(">III", reader.bytes(table + 16, 12 * groups))
                  if start <= end]
    else:
        return None
    covered = CodePoints(ranges)
    if 0x20 in covered:  # ReportLab maps the no-break space to the space, or the reverse
        ranges.append((0xA0, 0xA0))
    elif 0xA0 in covered:
        ranges.append((0x20, 0x20))
    return ranges


class _Reader:
    """Bytes at offsets of an open font file."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh

    def bytes(self, offset: int, size: int) -> bytes:
        self.fh.seek(offset)
        data = self.fh.read(size)
        if len(data) != size:
            raise ValueError("truncated font file")
        return data

    def unpack(self, offset: int, fmt: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.bytes(offset, struct.calcsize(fmt)))


def _face_offset(reader: _Reader, subfont: int) -> int:
    """Where face ``subfont`` starts: 0 in a ``.ttf``, from the header of a ``.ttc``."""
    if reader.bytes(0, 4) != b"ttcf":
        return 0
    (count,) = reader.unpack(8, ">I")
    if not 0 <= subfont < count:
        raise ValueError(f"no subfont {subfont}")
    return reader.unpack(12 + 4 * subfont, ">I")[0]


def _table_offset(reader: _Reader, face: int, tag: bytes) -> int:
    (tables,) = reader.unpack(face + 4, ">H")
    offsets = [offset for name, _, offset, _ in struct.iter_unpack(">4sIII", reader.bytes(face + 12, 16 * tables))
               if name == tag]
    if not offsets:
        raise ValueError(f"no {tag.decode()} table")
    return offsets[-1]


def _is_unicode(platform: int, encoding: int) -> bool:
    """ReportLab's test for a Unicode subtable: any Windows one, any Unicode one but
    variation sequences (0, 5), and (1, 1)."""
    return platform == 3 or (platform == 0 and encoding != 5) or (platform, encoding) == (1, 1)


def _unicode_subtable(reader: _Reader, cmap: int) -> int:
    """The offset (from the ``cmap`` table) of the subtable ReportLab reads: the last
    Unicode one listed, else a Macintosh Roman one."""
    version, subtables = reader.unpack(cmap, ">HH")
    if subtables == 0 and version != 0:
        subtables = version
    chosen, unicode = None, False
    for platform, encoding, offset in struct.iter_unpack(">HHI", reader.bytes(cmap + 4, 8 * subtables)):
        if _is_unicode(platform, encoding):
            chosen, unicode = offset, True
        elif (platform, encoding) == (1, 0) and not unicode:  # Macintosh Roman
            chosen = offset
    if chosen is None:
        raise ValueError("no suitable cmap subtable")
    return chosen


# ---- glyph outlines (for the seal, which is drawn as vector paths, not as text) -----------

PathOp = tuple  # ("M", x, y) | ("L", x, y) | ("Q", cx, cy, x, y) | ("Z",), in em units
Contour = list[tuple[float, float, bool]]  # (x, y, on the curve), in font units


def _contours_of(face: Any, glyph: int, depth: int = 0) -> list[Contour]:
    """The contours of TrueType glyph ``glyph``: lists of (x, y, on_curve) in font units."""
    if depth > 8 or glyph + 1 >= len(face.glyphPos):
        return []
    start = face.get_table_pos("glyf")[0] + face.glyphPos[glyph]
    end = face.get_table_pos("glyf")[0] + face.glyphPos[glyph + 1]
    data = face._ttf_data[start:end]
    if len(data) < 10:
        return []
    (n_contours,) = struct.unpack_from(">h", data, 0)
    if n_contours >= 0:
        return _simple_contours(data, n_contours)
    return _composite_contours(face, data, depth)


def _simple_contours(data: bytes, n_contours: int) -> list[Contour]:
    """A simple glyph's contours: end points, instructions (skipped), flags, x, y."""
    pos = 10
    end_points = struct.unpack_from(f">{n_contours}H", data, pos)
    pos += 2 * n_contours
    (instructions,) = struct.unpack_from(">H", data, pos)
    pos += 2 + instructions
    n_points = end_points[-1] + 1 if end_points else 0
    flags: list[int] = []
    while len(flags) < n_points:
        flag = data[pos]
        pos += 1
        flags.append(flag)
        if flag & 0x08:  # REPEAT
            flags.extend([flag] * data[pos])
            pos += 1
    del flags[n_points:]

    def coords(short_bit: int, same_bit: int) -> list[int]:
        nonlocal pos
        value, out = 0, []
        for flag in flags:
            if flag & short_bit:
                delta = data[pos]
                pos += 1
                value += delta if flag & same_bit else -delta
            elif not flag & same_bit:
                value += struct.unpack_from(">h", data, pos)[0]
                pos += 2
            out.append(value)
        return out

    xs = coords(0x02, 0x10)
    ys = coords(0x04, 0x20)
    contours: list[Contour] = []
    first = 0
    for last in end_points:
        contours.append([(xs[i], ys[i], bool(flags[i] & 1)) for i in range(first, last + 1)])
        first = last + 1
    return contours


def _composite_contours(face: Any, data: bytes, depth: int) -> list[Contour]:
    """A composite glyph's contours: its components placed by x/y offsets, optionally scaled."""
    parts: list[Contour] = []
    pos = 10
    more = True
    while more:
        flags, component = struct.unpack_from(">HH", data, pos)
        pos += 4
        if flags & 0x0001:
            dx, dy = struct.unpack_from(">hh", data, pos)
            pos += 4
        else:
            dx, dy = struct.unpack_from(">bb", data, pos)
            pos += 2
        if not flags & 0x0002:  # point-matching placement: rare in CJK fonts
            dx = dy = 0
        (a, b, c, d), pos = _component_scale(data, pos, flags)
        for contour in _contours_of(face, component, depth + 1):
            parts.append([(a * x + c * y + dx, b * x + d * y + dy, on) for x, y, on in contour])
        more = bool(flags & 0x0020)
    return parts


def _component_scale(data: bytes, pos: int, flags: int) -> tuple[tuple[float, float, float, float], int]:
    """A component's 2×2 transform (a, b, c, d) and the position after it."""
    if flags & 0x0008:  # one scale
        (scale,) = struct.unpack_from(">h", data, pos)
        return (scale / 16384, 0.0, 0.0, scale / 16384), pos + 2
    if flags & 0x0040:  # x and y scales
        x, y = struct.unpack_from(">hh", data, pos)
        return (x / 16384, 0.0, 0.0, y / 16384), pos + 4
    if flags & 0x0080:  # a 2×2 matrix
        a, b, c, d = struct.unpack_from(">hhhh", data, pos)
        return (a / 16384, b / 16384, c / 16384, d / 16384), pos + 8
    return (1.0, 0.0, 0.0, 1.0), pos


@lru_cache(maxsize=512)
def _glyph_path_cached(font_key: tuple[str, int], ch: str) -> tuple[PathOp, ...]:
    font = _loaded[font_key]
    face = font.ttfont.face
    glyph = face.charToGlyph.get(ord(ch))
    if glyph is None:
        return ()
    scale = 1.0 / font.units_per_em
    ops: list[PathOp] = []
    for contour in _contours_of(face, glyph):
        if not contour:
            continue
        pts = [(x * scale, y * scale, on) for x, y, on in contour]
        # Start on an on-curve point (or the midpoint of two off-curve ones).
        if pts[0][2]:
            start = pts[0]
            rest = pts[1:] + [pts[0]]
        elif pts[-1][2]:
            start = pts[-1]
            rest = pts
        else:
            start = ((pts[0][0] + pts[-1][0]) / 2, (pts[0][1] + pts[-1][1]) / 2, True)
            rest = pts + [start]
        ops.append(("M", start[0], start[1]))
        control = None
        for x, y, on in rest:
            if on:
                if control is None:
                    ops.append(("L", x, y))
                else:
                    ops.append(("Q", control[0], control[1], x, y))
                    control = None
            else:
                if control is not None:  # two off-curve points imply an on-curve midpoint
                    mx, my = (control[0] + x) / 2, (control[1] + y) / 2
                    ops.append(("Q", control[0], control[1], mx, my))
                control = (x, y)
        if control is not None:
            ops.append(("Q", control[0], control[1], start[0], start[1]))
        ops.append(("Z",))
    return tuple(ops)


def glyph_path(font: LoadedFont, ch: str) -> tuple[PathOp, ...]:
    """The outline of ``ch`` in ``font`` as path operations in em units (origin on the
    baseline at the glyph's left edge); empty when the font lacks the character.

    The seal's lettering is drawn from these outlines so that it is part of the seal's
    artwork: it is neither extracted by ``pdftotext`` nor selectable as text."""
    return _glyph_path_cached((font.file.path, font.file.subfont), ch)
