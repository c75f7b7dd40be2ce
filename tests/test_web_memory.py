"""Lean web workers: what a web process imports, and the memory a large request needed given back."""
from __future__ import annotations

import subprocess
import sys

import pytest

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
    done = []
    trimmer = Trimmer(lambda pad: done.append(("trim", pad)) or 1, rss=lambda: next(sizes), threshold_kb=4096,
                      release=lambda: done.append("release"), collect=lambda: done.append("collect"))
    trimmer.after_request()  # +1 MB: nothing
    assert done == []
    trimmer.after_request()  # +9 MB: collected, released, trimmed; the new baseline is after the trim
    assert done == ["collect", "release", ("trim", 0)] and trimmer.baseline == 101_000
    trimmer.after_request()  # +2 MB from there: nothing
    assert len(done) == 3 and trimmer.trims == 1


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


def test_ages_are_worded_as_babel_words_them_without_loading_its_locale_data(app, client, world):
    """The inbox's "3 days ago" (the ``age`` filter) reads no CLDR locale: Babel would keep
    the whole locale (about 4 MB) in every worker; the words are Babel's own."""
    import datetime as dt

    from babel import localedata
    from babel.dates import format_timedelta

    from tests.helpers import gen_report, login
    from web.templating import words_for_delta

    seconds = [0, 1, 29, 30, 59, 60, 89, 90, 3059, 3060, 3600, 5399, 5400, 73_440, 86_400, 6 * 86_400,
               7 * 86_400 - 1, 25 * 86_400, 26 * 86_400, 311 * 86_400, 912 * 86_400, 40 * 365 * 86_400]
    seconds += list(range(0, 200_000, 997)) + list(range(0, 90_000_000, 86_399))
    for locale in ("zh_Hans_CN", "en"):
        for s in seconds:
            delta = -dt.timedelta(seconds=s)
            assert words_for_delta(delta, locale) == format_timedelta(
                delta, granularity="minute", add_direction=True, locale=locale), (locale, s)
    assert words_for_delta(-dt.timedelta(days=3), "zh_Hans_CN") == "3天前"
    assert words_for_delta(-dt.timedelta(days=1), "en") == "1 day ago"
    assert words_for_delta(-dt.timedelta(days=3), "fr") is None  # another language: Babel answers

    with app.app_context():
        gen_report()
    localedata._cache.clear()
    login(client, "qs_author")
    html = client.get("/").get_data(as_text=True)
    assert "分钟前" in html  # the draft's age in the inbox
    assert not localedata._cache  # no locale was loaded for it


def test_the_statement_cache_keeps_no_report_text_after_a_save(app, world):
    """SQLAlchemy keeps the first statement of each shape with its values for the worker's
    life: a saved report's outline and searchable text go in as parameters instead."""
    import json

    from tests.helpers import gen_report, get_user
    from workflow import services
    from workflow.db import db
    from workflow.search import ReportSearch

    marker = "独一无二的标记文字"
    with app.app_context():
        report = gen_report(text=f"一、总体情况\n{marker}第一稿。")
        services.update_draft(get_user("qs_author"), report.id, version=report.version,
                              text=f"一、总体情况\n{marker}第二稿。")
        cache = db.engine._compiled_cache  # type: ignore[attr-defined]
        assert cache is not None and len(cache)
        kept = [bind.value for compiled in cache.values() for bind in compiled.binds.values()]
        assert not [v for v in kept if marker in (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False,
                                                                                        default=str))]
        db.session.expire_all()
        saved = db.session.get(type(report), report.id)
        assert marker + "第二稿。" in json.dumps(saved.current.outline, ensure_ascii=False)
        assert marker + "第二稿。" in db.session.get(ReportSearch, report.id).body  # the search's text too


def test_a_trim_closes_the_pooled_sqlite_connections(app, client):
    """What a large request bound to SQLite's cached statements, and its page cache, go with
    the pooled connections before the trim; the next request opens one again. A server
    database (PostgreSQL) keeps its pool: its connections hold nothing of the worker's."""
    from workflow.db import db

    trimmer = app.extensions.get("chengbao_memory_trimmer")
    if trimmer is None:
        pytest.skip("no /proc or no glibc: no trimmer is wired")
    calls = []
    trimmer.trim = lambda pad: calls.append(pad) or 1
    client.get("/login")
    with app.app_context():
        sqlite = db.engine.url.get_backend_name() == "sqlite"
        pool = db.engine.pool
        if sqlite:
            assert pool.checkedin() >= 1  # an ordinary request leaves its connection pooled
    trimmer.baseline = 0  # as if the worker had grown since
    assert client.get("/login").status_code == 200
    assert calls == [0]
    with app.app_context():
        if sqlite:
            assert db.engine.pool is not pool and db.engine.pool.checkedin() == 0
        else:
            assert db.engine.pool is pool
    assert client.get("/login").status_code == 200  # opens a new one


def test_a_long_page_renders_as_flask_renders_it(app, client, world, monkeypatch):
    """``render_large`` joins the template's pieces a batch at a time: the same page."""
    from flask import render_template

    from tests.helpers import gen_report, login
    from web import templating
    from web.reports.routes import report_page_context
    from workflow import services
    from workflow.models import User

    with app.app_context():
        report_id = gen_report(text="一、总体情况\n建成农贸市场3个，完成投资2.4亿元。\n二、下一步\n新增就业500人。").id
    login(client, "qs_author")
    monkeypatch.setattr(templating, "RENDER_BATCH", 3)
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "农贸市场3个" in page and 'id="indicators"' in page and "2.4" in page
    with app.test_request_context(f"/reports/{report_id}"):
        from flask_login import login_user

        from workflow.db import db

        user = db.session.scalar(db.select(User).where(User.username == "qs_author"))
        login_user(user)
        context = report_page_context(services.get_report(user, report_id))
        assert templating.render_large("reports/show.html", **context) == render_template("reports/show.html",
                                                                                          **context)


def test_the_report_page_lists_the_indicators_it_finds_as_it_goes():
    from workflow.indicators import IndicatorsOf, extract_indicators

    outline = {"preamble": ["全年完成投资3亿元。"], "sections": [
        {"id": "s1", "number": "一、", "heading": "总体情况", "paragraphs": ["建成农贸市场3个，新增就业500人。"]}]}
    found = IndicatorsOf(outline)
    assert found and list(found) == list(found) == extract_indicators(outline)
    assert [i["unit"] for i in found] == ["亿元", "个", "人"]
    assert not IndicatorsOf({"preamble": ["没有数字。"], "sections": []})
