"""Helpers for the PDF tests: a tiny outline parser for the seed texts, a standard
render input, and wrappers around poppler's command-line tools."""
from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from pdf.render import ApprovalMark, RenderInput

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

_NUMBERINGS = [  # (pattern, level): 一、 / (一) / 1. / (1)
    (re.compile(r"^([一二三四五六七八九十]+、)(.*)$"), 1),
    (re.compile(r"^([(（][一二三四五六七八九十]+[)）])(.*)$"), 2),
    (re.compile(r"^(\d+[.．、])(?!\d)(.*)$"), 3),
    (re.compile(r"^([(（]\d+[)）])(.*)$"), 4),
]


def parse_outline(text: str) -> dict:
    """Test-only importer: numbered lines open sections (nested by numbering style);
    a numbered line that goes on after its first "。" is a run-in heading."""
    outline: dict = {"preamble": [], "sections": [], "closing": []}
    stack: list[dict] = []
    count = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        for pattern, level in _NUMBERINGS:  # noqa: B007  (the match found leaves its level here)
            match = pattern.match(line)
            if match:
                break
        else:
            (stack[-1]["paragraphs"] if stack else outline["preamble"]).append(line)
            continue
        number, rest = match.groups()
        count += 1
        section = {"id": f"s{count}", "level": level, "number": number, "heading": rest,
                   "paragraphs": [], "children": []}
        head, dot, tail = rest.partition("。")
        if dot and tail:
            section.update(heading=head + dot, paragraphs=[tail], run_in=True)
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else outline["sections"]).append(section)
        stack.append(section)
    return outline


def seed_input(name: str, **overrides) -> RenderInput:
    text = (SEEDS / name).read_text(encoding="utf-8")
    values = dict(
        title="青山镇2026年度工作计划", outline=parse_outline(text), issuer="青山镇人民政府",
        town="青山镇", date=datetime.date(2026, 1, 5), doc_number="青政〔2026〕3号",
        archive_no="示范区〔2026〕档0003号", verify_url="http://127.0.0.1:5000/verify?a=0003",
        report_id=12, signer="李青山", addressee="示范区人民政府",
        approval=ApprovalMark("示范区人民政府", "同意。", datetime.date(2026, 1, 8)))
    values.update(overrides)
    return RenderInput(**values)


def paragraph_input(*paragraphs: str, **overrides) -> RenderInput:
    values = dict(title="测试报告", outline={"preamble": list(paragraphs), "sections": [], "closing": []},
                  issuer="示范区人民政府", town="青山镇", date=datetime.date(2026, 1, 5))
    values.update(overrides)
    return RenderInput(**values)


# ---- poppler ------------------------------------------------------------------------------

def poppler(tool: str, *args: str | Path, check: bool = True) -> str:
    """Run a poppler tool and return its stdout (stderr appended); skip if absent."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} (Debian package poppler-utils) is not installed")
    done = subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0 and tool != "pdfsig":
        raise AssertionError(f"{tool} failed ({done.returncode}): {done.stderr}")
    return done.stdout + done.stderr


def squash(text: str) -> str:
    """Text without whitespace and without page numbers, for containment checks."""
    text = re.sub(r"—\s*\d+\s*—", "", text)
    return re.sub(r"\s+", "", text)


@dataclass
class TextLine:
    page: int  # 0-based
    x_min: float
    y_min: float  # from the top of the page, points
    x_max: float
    y_max: float
    text: str


def text_lines(pdf: Path) -> list[TextLine]:
    """Lines as poppler sees them (``pdftotext -bbox-layout``), in reading order."""
    xhtml = poppler("pdftotext", "-bbox-layout", pdf, "-")
    root = ET.fromstring(xhtml[: xhtml.rindex("</html>") + len("</html>")])
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    lines = []
    for page_no, page in enumerate(root.iterfind(".//x:page", ns)):
        for line in page.iterfind(".//x:line", ns):
            words = [w.text or "" for w in line.iterfind("x:word", ns)]
            a = line.attrib
            lines.append(TextLine(page_no, float(a["xMin"]), float(a["yMin"]), float(a["xMax"]),
                                  float(a["yMax"]), "".join(words)))
    return lines
