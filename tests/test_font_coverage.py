"""The missing-glyph check's code points: read from the configured body face's ``cmap`` table
(no ReportLab), kept as ranges, cached on disk per font file (path, subfont, size, mtime)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pdf import fonts
from pdf.fonts import CodePoints, FontConfig, FontFile, _read_cmap, coverage_check

UMING = Path("/usr/share/fonts/truetype/arphic/uming.ttc")
MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _need(*paths: Path) -> None:
    for path in paths:
        if not path.is_file():
            pytest.skip(f"{path} not installed")


@pytest.fixture(autouse=True)
def _fresh_memory(monkeypatch):
    """Each test starts as a web process does: no code points remembered, and no face loaded
    for rendering (earlier tests in the same pytest process render PDFs, and a loaded face
    answers the check from its own character map without touching the cache)."""
    monkeypatch.setattr(fonts, "_coverages", {})
    monkeypatch.setattr(fonts, "_loaded", {})


def test_code_points_as_ranges_answer_like_a_set():
    ranges = [(0x4E00, 0x4E05), (0x41, 0x5A), (0x4E06, 0x4E08), (0x20, 0x20), (0x50, 0x60)]
    points = CodePoints(ranges)
    expected = {c for start, end in ranges for c in range(start, end + 1)}
    assert list(points.starts) == [0x20, 0x41, 0x4E00] and list(points.ends) == [0x20, 0x60, 0x4E08]
    assert set(points) == expected and len(points) == len(expected)
    assert all((c in points) == (c in expected) for c in range(0, 0x5000))
    assert "A" not in points  # code points, not characters
    again = CodePoints.from_bytes(points.to_bytes())
    assert list(again.starts) == list(points.starts) and list(again.ends) == list(points.ends)
    with pytest.raises(ValueError):
        CodePoints.from_bytes(points.to_bytes()[:-4])


def test_the_check_is_cached_on_disk_and_read_back_without_the_font(tmp_path):
    _need(UMING)
    font = tmp_path / "fonts" / "body.ttc"
    font.parent.mkdir()
    shutil.copy(UMING, font)
    config = FontConfig.from_mapping({"body": str(font)})
    cache = tmp_path / "cache"
    check = coverage_check(config, cache_dir=cache)
    assert check is not None
    (written,) = cache.glob("*.cmap")
    assert written.stat().st_size < 64 * 1024  # ranges, not a set of 24,000 numbers
    text = "青山镇年度工作计划𠮷😀"
    assert check(text) == {"𠮷", "😀"}

    # Another process (here: this one, forgetting) reads the cache file, not the font.
    fonts._coverages.clear()
    with open(font, "r+b") as fh:  # the same size and mtime, but an unreadable font now
        stat = os.stat(font)
        fh.write(b"\0" * 64)
    os.utime(font, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert coverage_check(config, cache_dir=cache)(text) == {"𠮷", "😀"}

    # A changed font file (another mtime) is read again: the old cache entry does not answer.
    fonts._coverages.clear()
    shutil.copy(MICROHEI if MICROHEI.is_file() else UMING, font)
    os.utime(font, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert coverage_check(config, cache_dir=cache) is not None
    assert len(list(cache.glob("*.cmap"))) == 2


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    _need(UMING)
    config = FontConfig.from_mapping({"body": str(UMING)})
    coverage_check(config, cache_dir=tmp_path)
    (written,) = tmp_path.glob("*.cmap")
    written.write_bytes(b"chengbao-cmap/1\ngarbage")
    fonts._coverages.clear()
    check = coverage_check(config, cache_dir=tmp_path)
    assert check is not None and check("中文𠮷") == {"𠮷"}
    assert CodePoints.from_bytes(written.read_bytes())  # rewritten whole


def test_the_app_checks_against_the_configured_body_font_not_the_default(tmp_path):
    """FONT_BODY names the face the jobs render with; the check follows it."""
    _need(UMING, MICROHEI)
    with open(UMING, "rb") as a, open(MICROHEI, "rb") as b:
        uming, microhei = _read_cmap(a, 0), _read_cmap(b, 0)
    assert uming is not None and microhei is not None
    printable = [chr(c) for c in range(0x21, 0x30000) if chr(c).isprintable() and not chr(c).isspace()]
    only_uming = next(ch for ch in printable if ord(ch) in uming and ord(ch) not in microhei)
    only_microhei = next(ch for ch in printable if ord(ch) in microhei and ord(ch) not in uming)
    from app import create_app
    from workflow.content import glyph_checker

    for body, missing in ((UMING, {only_microhei}), (MICROHEI, {only_uming})):
        fonts._coverages.clear()
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "FONT_BODY": str(body),
                    "INSTANCE_DIR": str(tmp_path / body.stem)})
        assert glyph_checker()(f"报告{only_uming}{only_microhei}") == missing
        assert list((tmp_path / body.stem / "font-coverage").glob(f"{body.stem}-0-*.cmap"))


def test_a_missing_body_font_switches_the_check_off(tmp_path):
    assert coverage_check(FontConfig.from_mapping({"body": FontFile(str(tmp_path / "none.ttf"))}),
                          cache_dir=tmp_path) is None
