"""The PDF layer: layout numbers (``layout``), fonts (``fonts``), typesetting and drawing
(``typeset``, ``draw``, put together by ``render``), signing (``signing``) and verification
(``verify``) — no Flask, no database — plus what drives them: the ``Publication`` row
(``publications``), the archive (``archive``), the RQ jobs (``jobs``, ``queue``), the
features the web calls (``service``), the CLI commands (``cli``) and the signed checkpoints
of the audit chains (``checkpoints``).

It depends on ``workflow`` (the domain), never on ``web`` or ``app``; ``app.py`` wires it
in with :func:`init_app`.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Wire the PDF layer into ``app``: its CLI commands (``dev-keys``, ``sweep``, the
    worker's entry point ``worker``), and the configured fonts' coverage as the
    domain's missing-glyph check (``workflow.content.set_glyph_coverage``)."""
    from workflow.content import set_glyph_coverage

    from . import checkpoints
    from .cli import register_cli
    from .fonts import FontConfig, coverage_check

    register_cli(app)
    checkpoints.init_app(app)  # ``audit-checkpoint``, and a checkpoint at each sweep when the chains moved
    # The faces the jobs render with (PDF_FONTS / FONT_*), their code points cached in the instance.
    set_glyph_coverage(coverage_check(FontConfig.from_settings(app.config),
                                      cache_dir=Path(app.config["INSTANCE_DIR"]) / "font-coverage"))
