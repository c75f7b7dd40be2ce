"""Every word a Chinese user sees is Chinese: the catalog translates every message the code
and the templates use, and every code of the workflow has a label."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.helpers import ensure_translations_compiled, login, post_form
from web import labels
from workflow import checks, table

ensure_translations_compiled()

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-k", "lazy_gettext", "-o", str(pot), str(ROOT)])
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as f:
        return read_po(f, locale="zh_Hans_CN")


def test_the_catalog_lives_where_babel_looks_for_it():
    assert CATALOG.exists()
    assert not (ROOT / "translations" / "zh_CN").exists(), "Babel ignores a catalog under zh_CN"


def test_every_message_is_translated_into_chinese(extracted, catalog):
    assert len([m for m in extracted if m.id]) > 100  # the extraction did find the UI
    missing, fuzzy = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = [] if translated is None else (
            [translated.string] if isinstance(translated.string, str) else list(translated.string))
        if not strings or not all(s.strip() for s in strings):
            missing.append(message.id)
        elif translated.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"untranslated: {missing}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_translations_keep_their_placeholders(catalog):
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert not problems


@pytest.mark.parametrize("mapping, codes", [
    (labels.STATES, table.STATES),
    (labels.ACTIONS, table.ACTIONS),
    (labels.EVENTS, table.ACTIONS + ("create",)),
    (labels.ROLES, table.ROLES),
    (labels.KINDS, table.KINDS),
    (labels.ORG_KINDS, table.ORG_KINDS),
    (labels.PROBLEMS, tuple(checks.SEVERITY)),
    (labels.SEVERITIES, tuple(set(checks.SEVERITY.values()))),
])
def test_every_workflow_code_has_a_label(mapping, codes):
    assert set(codes) <= set(mapping), set(codes) - set(mapping)


def test_pages_are_chinese_by_default_and_english_on_request(app, client, world):
    login(client, "qs_author")
    html = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "我的待办" in html and "My to-do" not in html
    # An English-language browser still gets Chinese: offices run English Windows/WPS builds.
    english = app.test_client()
    html = english.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in to Chengbao" not in html and 'lang="zh-CN"' in html
    response = post_form(english, "/locale", {"locale": "en"}, page="/login", headers={"Referer": "/login"})
    assert response.headers["Location"].endswith("/login")
    html = english.get("/login").get_data(as_text=True)
    assert "Log in to Chengbao" in html


def test_domain_messages_are_shown_in_the_users_language(app):
    message = "报告已被他人处理，请刷新后重试 / someone else acted on this report first; reload and retry"
    with app.test_request_context("/"):
        assert labels.localise(message) == "报告已被他人处理，请刷新后重试"
    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "en"
        assert labels.localise(message) == "someone else acted on this report first; reload and retry"
        assert labels.localise("占位符“x”未填写") == "占位符“x”未填写"
