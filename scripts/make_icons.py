"""Draw Chengbao's icons: a stamped document inside a seal ring on the brand red.

One geometry, two renderings: ``static/icons/icon.svg`` (vector) and, drawn with Pillow from
the same shapes, ``icon-192.png``, ``icon-512.png`` and ``favicon.ico`` (16, 32, 48 px).
Run ``.venv/bin/python scripts/make_icons.py`` after changing a shape; the outputs are committed.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "static" / "icons"
BOX = 512  # the design's units
RED, WHITE, FOLD = "#b22222", "#ffffff", "#f2c4c4"
CORNER = 112  # background corner radius
RING = (256, 256, 178, 22)  # centre x, centre y, radius, stroke width
PAGE = [(184, 148), (288, 148), (328, 188), (328, 364), (184, 364)]  # a sheet with its corner folded
FOLD_TRIANGLE = [(288, 148), (288, 188), (328, 188)]
LINES = [(208, 206, 96), (208, 238, 96), (208, 270, 60)]  # x, y, length of the red text lines; 14 high
LINE_HEIGHT = 14
STAMP = (262, 296, 42)  # x, y, side of the red square stamp


def svg() -> str:
    cx, cy, r, w = RING

    def points(shape: list[tuple[int, int]]) -> str:
        return " ".join(f"{x},{y}" for x, y in shape)

    lines = "".join(f'<rect x="{x}" y="{y}" width="{n}" height="{LINE_HEIGHT}" rx="3" fill="{RED}"/>'
                    for x, y, n in LINES)
    sx, sy, side = STAMP
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BOX} {BOX}" width="{BOX}" height="{BOX}">'
            f'<title>呈报</title>'
            f'<rect width="{BOX}" height="{BOX}" rx="{CORNER}" fill="{RED}"/>'
            f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{WHITE}" stroke-width="{w}"/>'
            f'<polygon points="{points(PAGE)}" fill="{WHITE}"/>'
            f'<polygon points="{points(FOLD_TRIANGLE)}" fill="{FOLD}"/>'
            f'{lines}<rect x="{sx}" y="{sy}" width="{side}" height="{side}" rx="4" fill="{RED}"/></svg>\n')


def png(size: int) -> Image.Image:
    """The same shapes with Pillow, drawn 4× larger and scaled down for smooth edges."""
    scale = size * 4 / BOX
    big = Image.new("RGBA", (size * 4, size * 4), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)

    def s(value: float) -> float:
        return value * scale

    def pts(shape: list[tuple[int, int]]) -> list[tuple[float, float]]:
        return [(s(x), s(y)) for x, y in shape]

    draw.rounded_rectangle((0, 0, s(BOX) - 1, s(BOX) - 1), radius=s(CORNER), fill=RED)
    cx, cy, r, w = RING
    draw.ellipse((s(cx - r - w / 2), s(cy - r - w / 2), s(cx + r + w / 2), s(cy + r + w / 2)), fill=WHITE)
    draw.ellipse((s(cx - r + w / 2), s(cy - r + w / 2), s(cx + r - w / 2), s(cy + r - w / 2)), fill=RED)
    draw.polygon(pts(PAGE), fill=WHITE)
    draw.polygon(pts(FOLD_TRIANGLE), fill=FOLD)
    for x, y, n in LINES:
        draw.rounded_rectangle((s(x), s(y), s(x + n), s(y + LINE_HEIGHT)), radius=s(3), fill=RED)
    sx, sy, side = STAMP
    draw.rounded_rectangle((s(sx), s(sy), s(sx + side), s(sy + side)), radius=s(4), fill=RED)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg(), encoding="utf-8")
    for size in (192, 512):
        png(size).save(OUT / f"icon-{size}.png", optimize=True)
    png(256).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    print("wrote", ", ".join(sorted(p.name for p in OUT.iterdir())))


if __name__ == "__main__":
    main()
