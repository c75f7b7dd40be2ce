"""Full-text search of titles and content in Chinese (``workflow.search``): a phrase only in the
body is found, never a report outside the searcher's scope, short words too, ranked, with a
snippet whose matches are marked and whose text is escaped. On SQLite (FTS5 trigram) and on
PostgreSQL (pg_trgm), whichever DATABASE_URL picks."""
from __future__ import annotations

import os
import re

import pytest

from tests.helpers import (
    act,
    advance,
    browser_as,
    ensure_translations_compiled,
    gen_report,
    get_html,
    get_user,
)
from tests.querycount import count_queries
from workflow import search, services
from workflow.db import db
from workflow.models import Report

ensure_translations_compiled()

FARMLAND = """为做好本年度工作，现将计划报告如下。
一、发展现代农业
（一）夯实粮食生产基础
新建高标准农田3000亩，改造提升灌溉渠道12公里。
二、办好民生实事
完成中心小学运动场改造。
"""
FARMLAND_TWICE = """现将计划报告如下。
一、高标准农田建设
（一）新建
新建高标准农田5000亩，高标准农田覆盖率达到80%。
"""
OTHER = """现将计划报告如下。
一、发展特色产业
新建茶园800亩，培育家庭农场15家。
"""


def _titles(page) -> list[str]:
    return [r.title for r in page.items]


def _search(username: str, q: str, **filters):
    db.session.expire_all()
    return services.list_reports(get_user(username), q=q, **filters)


def test_a_phrase_only_in_the_body_is_found_and_its_snippet_marks_it(ctx, world):
    gen_report("qs", title="青山镇2027年度工作计划", text=FARMLAND)
    gen_report("xk", title="溪口镇2027年度工作计划", text=OTHER)
    page = _search("district_reviewer", "高标准农田")
    assert _titles(page) == ["青山镇2027年度工作计划"] and page.total == 1
    snippet = page.snippets[page.items[0].id]
    assert "新建高标准农田3000亩" in snippet.text
    assert [snippet.text[a:b] for a, b in snippet.highlights] == ["高标准农田"]
    assert "青山镇2027年度工作计划" not in snippet.text  # the text, not the title again


def test_the_district_reviewer_finds_the_three_plans_that_mention_it_best_first(ctx, world):
    plain = gen_report("qs", title="青山镇计划", text=FARMLAND).id
    twice = gen_report("xk", title="溪口镇计划", text=FARMLAND_TWICE).id
    titled = gen_report("qs", title="青山镇高标准农田建设专项计划", text=OTHER).id
    gen_report("xk", title="溪口镇总结", text=OTHER)
    page = _search("district_reviewer", "高标准农田")
    assert page.total == 3
    ids = [r.id for r in page.items]
    # A title that names it first; then the text that mentions it most.
    assert ids == [titled, twice, plain]


def test_never_a_report_outside_the_searchers_scope(ctx, world):
    mine = gen_report("qs", title="青山镇计划", text=FARMLAND).id
    neighbour = gen_report("xk", title="溪口镇计划", text=FARMLAND).id
    elsewhere = gen_report("lh", title="临湖镇计划", text=FARMLAND).id  # another district
    for q in ("高标准农田", "农田", "田"):
        assert {r.id for r in _search("district_reviewer", q).items} == {mine, neighbour}, q
        assert {r.id for r in _search("other_reviewer", q).items} == {elsewhere}, q
        assert {r.id for r in _search("qs_author", q).items} == {mine}, q
        assert _search("nobody", q).total == 0
    assert elsewhere not in _search("district_reviewer", "临湖镇").snippets


@pytest.mark.parametrize("q", ["农田", "田", "茶", "茶园"])
def test_one_and_two_character_words_are_found_too(ctx, world, q):
    farm = gen_report("qs", title="青山镇计划", text=FARMLAND).id
    tea = gen_report("xk", title="溪口镇计划", text=OTHER).id
    expected = {farm} if "田" in q else {tea}
    page = _search("district_reviewer", q)
    assert {r.id for r in page.items} == expected
    snippet = page.snippets[next(iter(expected))]
    assert snippet.highlights and all(snippet.text[a:b] == q for a, b in snippet.highlights)


def test_every_word_must_occur_and_each_is_marked(ctx, world):
    both = gen_report("qs", title="青山镇计划", text=FARMLAND).id
    gen_report("xk", title="溪口镇计划", text=OTHER)
    page = _search("district_reviewer", "高标准农田  运动场 农田")
    assert [r.id for r in page.items] == [both]
    marked = {page.snippets[both].text[a:b] for a, b in page.snippets[both].highlights}
    assert "高标准农田" in marked
    assert _search("district_reviewer", "高标准农田 茶园").total == 0


def test_search_combines_with_the_other_filters(ctx, world):
    draft = gen_report("qs", title="青山镇计划", text=FARMLAND).id
    reviewed = advance(gen_report("xk", title="溪口镇计划", text=FARMLAND).id, "district_review", town="xk").id
    old = gen_report("qs", title="青山镇2026计划", text=FARMLAND, year=2026).id
    report = gen_report("qs", title="青山镇总结", text=FARMLAND, kind="annual_report").id
    q = "高标准农田"
    assert {r.id for r in _search("district_reviewer", q).items} == {draft, reviewed, old, report}
    assert [r.id for r in _search("district_reviewer", q, state="district_review").items] == [reviewed]
    assert {r.id for r in _search("district_reviewer", q, year=2026).items} == {old}
    assert {r.id for r in _search("district_reviewer", q, kind="annual_report").items} == {report}
    assert {r.id for r in _search("district_reviewer", q, org_unit_id=world["xk"]).items} == {reviewed}
    paged = _search("district_reviewer", q, per_page=3, page=2)
    assert paged.total == 4 and len(paged.items) == 1


def test_the_index_follows_the_content_through_edits_returns_and_publication(ctx, world):
    rid = gen_report("qs", title="青山镇计划", text=OTHER).id
    assert _search("qs_author", "高标准农田").total == 0
    report = db.session.get(Report, rid)
    services.update_draft(get_user("qs_author"), rid, version=report.version, text=FARMLAND)
    assert [r.id for r in _search("qs_author", "高标准农田").items] == [rid]
    assert _search("qs_author", "茶园").total == 0  # the old text is gone from the index
    report = db.session.get(Report, rid)
    services.update_draft(get_user("qs_author"), rid, version=report.version, title="青山镇灌溉渠道计划")
    assert [r.id for r in _search("qs_author", "灌溉渠道计划").items] == [rid]
    advance(rid, "district_review")
    act(rid, "district_reviewer", "return", "请补充")  # a new draft: the same text
    assert [r.id for r in _search("district_reviewer", "高标准农田").items] == [rid]
    advance(rid, "published")
    assert [r.id for r in _search("district_reviewer", "高标准农田", state="published").items] == [rid]


@pytest.mark.parametrize("q", ['"高标准', "农田\" OR \"茶园", "NEAR(农田 茶园)", "农*", "100%", "a_b",
                               "'; DROP TABLE report; --", "\\", "高标准农田)", "^农田", "-农田", "{body}:农田"])
def test_query_syntax_in_the_search_box_is_text(ctx, world, q):
    farm = gen_report("qs", title="青山镇计划", text=FARMLAND + "完成率100%，a_b项。\n").id
    gen_report("xk", title="溪口镇计划", text=OTHER + "完成率100x，aXb项。\n")
    page = _search("district_reviewer", q)
    # Only a literal occurrence of every word counts.
    body = search.searchable_text("青山镇计划", db.session.get(Report, farm).current.outline)
    expected = {farm} if all(w.lower() in body.lower() for w in q.split()) else set()
    assert {r.id for r in page.items} == expected, q


def test_the_list_with_a_search_costs_the_same_queries_for_2_rows_as_for_20(ctx, world):
    def queries() -> int:
        db.session.expire_all()
        user = get_user("district_reviewer")
        _ = [p.org_unit.path for p in user.positions]
        with count_queries() as statements:
            page = services.list_reports(user, q="高标准农田")
            _ = [(r.title, r.org_unit.name, r.state, r.version, page.snippets[r.id].text) for r in page.items]
        return len(statements)

    for i in range(2):
        gen_report("qs", title=f"计划{i}", text=FARMLAND)
    few = queries()
    for i in range(18):
        gen_report("xk" if i % 2 else "qs", title=f"计划{i + 2}", text=FARMLAND)
    assert few == queries() <= 3


def test_the_report_list_page_searches_and_marks_the_matches_escaped(app, world):
    with app.app_context():
        gen_report("qs", title="青山镇计划", text="一、农业\n<script>alert(1)</script>高标准农田<b>粗</b>\n")
        gen_report("xk", title="溪口镇<i>计划</i>", text=OTHER)
    reviewer = browser_as(app, "district_reviewer")
    html = get_html(reviewer, "/reports?q=高标准农田")
    assert "搜索标题和正文" in html
    assert "<mark>高标准农田</mark>" in html
    assert "<script>alert(1)" not in html and "<b>粗</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "溪口镇" not in re.sub(r"<select.*?</select>", "", html, flags=re.S)
    # Markup in a search word is text too.
    html = get_html(reviewer, "/reports?q=<script>")
    assert "<mark>&lt;script&gt;</mark>" in html and "<script>alert" not in html


def test_the_list_page_costs_the_same_queries_with_a_search_for_2_rows_as_for_20(app, world):
    reviewer = browser_as(app, "district_reviewer")

    def queries() -> int:
        with app.app_context(), count_queries() as statements:
            assert reviewer.get("/reports?q=高标准农田").status_code == 200
        return len(statements)

    with app.app_context():
        for i in range(2):
            advance(gen_report("qs", title=f"计划{i}", text=FARMLAND).id, "district_review")
    few = queries()
    with app.app_context():
        for i in range(18):
            town = "xk" if i % 2 else "qs"
            advance(gen_report(town, title=f"计划{i + 2}", text=FARMLAND).id, "district_review", town=town)
    assert few == queries()


def test_the_api_lists_search_results_with_snippets_and_match_offsets(app, world, as_user):
    with app.app_context():
        farm = gen_report("qs", title="青山镇计划", text=FARMLAND + "<script>x</script>\n").id
        gen_report("xk", title="溪口镇计划", text=OTHER)
        gen_report("lh", title="临湖镇计划", text=FARMLAND)
    api = as_user("district_reviewer")
    body = api.get("/reports", query_string={"q": "高标准农田"}).get_json()
    assert body["total"] == 1 and [i["id"] for i in body["items"]] == [farm]
    item = body["items"][0]
    assert [item["snippet"][a:b] for a, b in item["snippet_highlights"]] == ["高标准农田"]
    # Text is data in the API: returned verbatim, escaping is the page's job.
    assert "<script>" in api.get("/reports", query_string={"q": "script"}).get_json()["items"][0]["snippet"]
    # Without q, no snippet; a too long q is refused.
    assert "snippet" not in api.get("/reports").get_json()["items"][0]
    assert api.get("/reports", query_string={"q": "农" * 101}).status_code == 400
    # Combined with the filters.
    assert api.get("/reports", query_string={"q": "高标准农田", "state": "published"}).get_json()["total"] == 0


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="SQLite file migrated from scratch")
def test_the_migration_indexes_the_reports_that_exist(tmp_path):
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from tests.helpers import build_world

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                      "INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        build_world()
        rid = gen_report("qs", title="青山镇计划", text=FARMLAND).id
        downgrade(revision="0003_outbox")  # as before search existed
        upgrade()  # 0004 backfills
        assert [r.id for r in _search("district_reviewer", "高标准农田").items] == [rid]
        assert [r.id for r in _search("district_reviewer", "农田").items] == [rid]
        db.session.remove()
        db.engine.dispose()


def test_snippets_are_cut_around_the_first_match_in_the_text():
    body = "标题\n" + "甲" * 200 + "高标准农田" + "乙" * 200
    snippet = search.snippet_of(body, ["高标准农田"])
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) == search.SNIPPET_CHARS + 2
    (a, b), = snippet.highlights
    assert snippet.text[a:b] == "高标准农田" and a == search.SNIPPET_LEAD + 1
    assert snippet.parts() == [(snippet.text[:a], False), ("高标准农田", True), (snippet.text[b:], False)]
    # Only in the title: the beginning of the text, nothing marked.
    assert search.snippet_of("高标准农田\n正文", ["高标准农田"]) == search.Snippet("正文", ())
    # Case does not matter for Latin letters; offsets follow the original text.
    mixed = search.snippet_of("t\nThe PDF and the pdf", ["pdf"])
    assert [mixed.text[a:b] for a, b in mixed.highlights] == ["PDF", "pdf"]
    assert search.terms_of("  高标准  农田 高标准 ") == ["高标准", "农田"]
    assert search.terms_of("   ") == [] and search.match("   ") is None
