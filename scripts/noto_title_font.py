#!/usr/bin/env python3
"""Make the PDF's title face (小标宋 stand-in) from Debian's Noto Serif CJK SC Bold.

Noto Serif CJK (``fonts-noto-cjk``, SIL OFL 1.1) has PostScript (CFF) outlines, which
ReportLab's TrueType embedding refuses. This converts the Simplified Chinese face of the
collection to TrueType (quadratic) outlines, keeping the characters a report uses (ASCII,
Latin-1, punctuation and symbols, the CJK Unified Ideographs, full-width forms): ≈22,000
glyphs, ≈10 MB, about a minute and a half. ``pdf.fonts.FontConfig.default`` uses the result
for the title and the issuer's mark when it exists (else AR PL UMing, emboldened).

Run by ``WITH_TITLE_FONT=1 scripts/system-deps.sh`` with Debian's ``python3-fonttools``::

    python3 scripts/noto_title_font.py [SOURCE.ttc [OUTPUT.ttf]]
"""
from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

SOURCE = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
OUTPUT = "/usr/local/share/fonts/chengbao/NotoSerifCJKsc-Bold.ttf"  # pdf.fonts.NOTO_TITLE
FACE = "Noto Serif CJK SC Bold"
RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x214F), (0x2190, 0x21FF),
          (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x25FF), (0x3000, 0x303F), (0x3200, 0x32FF),
          (0x4E00, 0x9FFF), (0xFF00, 0xFFEF)]
MAX_ERROR = 1.0  # font units: how far a quadratic curve may stray from the cubic


def convert(source: str, output: str) -> None:
    collection = TTCollection(source)
    fonts = [f for f in collection.fonts if f["name"].getDebugName(4) == FACE]
    if not fonts:
        raise SystemExit(f"{source} has no face named {FACE!r}")
    font = fonts[0]
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for a, b in RANGES for u in range(a, b + 1)])
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    font["head"].glyphDataFormat = 0
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    font.sfntVersion = "\0\1\0\0"
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    partial = output + ".part"
    font.save(partial)
    Path(partial).replace(output)


if __name__ == "__main__":
    convert(sys.argv[1] if len(sys.argv) > 1 else SOURCE, sys.argv[2] if len(sys.argv) > 2 else OUTPUT)
