"""Lean web workers: what a web process imports, and the memory a large request needed given back."""
from __future__ import annotations

import subprocess
import sys

from tests.jobs_support import ROOT
from web.memory import Trimmer, resident_kb


def test_a_web_process_imports_no_alembic_no_cryptography_no_lxml_no_renderer():
    """Migrating, signing checkpoints, reading a .docx and rendering are not a web worker's
    everyday work: their libraries are imported when used (``flask db`` still works)."""
    probe = ("import sys\n"
             "from app import create_app\n"
             "app = create_app({'TESTING': True, 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
             "heavy = ('alembic', 'mako', 'pygments', 'flask_migrate', 'cryptography.x509', 'lxml', 'reportlab',\n"
             "         'pyhanko', 'qrcode', 'openpyxl', 'jieba')\n"
             "print(sorted(m for m in heavy if m in sys.modules))\n"
             "print(sorted(app.cli.list_commands(None)))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded, commands = done.stdout.splitlines()[-2:]
    assert loaded == "[]"
    assert "'db'" in commands


def test_flask_db_loads_flask_migrate_when_run(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "--help"])
    assert result.exit_code == 0 and "upgrade" in result.output
    from workflow.db import db

    assert type(app.extensions["migrate"]).__name__ == "_LazyMigrateConfig"
    assert app.extensions["migrate"].db is db  # the first read wires Flask-Migrate's own configuration
    assert type(app.extensions["migrate"]).__name__ == "_MigrateConfig"
    assert app.extensions["migrate"].configure_args["render_as_batch"] is True


def test_the_worker_trims_after_a_request_that_grew_it():
    sizes = iter([100_000, 101_000, 109_000, 101_000, 103_000])
    trimmed = []
    trimmer = Trimmer(lambda pad: trimmed.append(pad) or 1, rss=lambda: next(sizes), threshold_kb=4096)
    trimmer.after_request()  # +1 MB: nothing
    assert trimmed == []
    trimmer.after_request()  # +9 MB: trimmed, the new baseline is after the trim
    assert trimmed == [0] and trimmer.baseline == 101_000
    trimmer.after_request()  # +2 MB from there: nothing
    assert trimmed == [0] and trimmer.trims == 1


def test_the_app_wires_the_trimmer_on_linux(app, client):
    trimmer = app.extensions.get("chengbao_memory_trimmer")
    if not resident_kb():
        return  # no /proc here: nothing is wired
    assert trimmer is not None
    calls = []
    trimmer.trim = lambda pad: calls.append(pad) or 1
    trimmer.baseline = 0  # as if the worker had grown since
    client.get("/login")
    assert calls == [0]
