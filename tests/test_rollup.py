"""The roll-up of a cycle (汇总): sums, means, medians, shares and growth against a hand
computation on seeded towns, outliers, sorting and filtering, the workbook read back, scope,
and a query count that does not grow with the towns."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.cycles_support import add_six_towns
from tests.helpers import ensure_translations_compiled, get_html, get_user, login
from tests.querycount import count_queries
from tests.rollup_support import publish_summary, report_cycle
from workflow import rollup

ensure_translations_compiled()


@pytest.fixture
def seeded(app, world):
    """2025: 青山镇 reported GDP 10亿元. 2026: 青山镇 13 (confirmed over the text's 12.5), 溪口镇 8,
    石桥镇 45000万元 (= 4.5亿元), 南塘镇 120 (≥ 10 × the median), 东岭乡 not published, 柳湾街道 not started.
    Revenue: 3200万元, 2800万元, and 石桥镇's 3000元 (= 0.3万元: a unit that looks wrong)."""
    with app.app_context():
        add_six_towns(world)
        last = report_cycle(2025)
        publish_summary(last, "qs", world, "10亿元", "3000万元")
        cycle = report_cycle(2026)
        ids = {
            "qs": publish_summary(cycle, "qs", world, "12.5亿元", "0.32亿元", confirm={"gdp": 13.0}),
            "xk": publish_summary(cycle, "xk", world, "8亿元", "2800万元"),
            "sq": publish_summary(cycle, "sq", world, "45000万元", "3000元"),
            "nt": publish_summary(cycle, "nt", world, "120亿元", "3100万元"),
            "dl": publish_summary(cycle, "dl", world, "9亿元", "2000万元", publish=False),
        }
        world.ids["cycle"], world.ids["last"] = cycle.id, last.id
        world.ids.update({f"report_{k}": v for k, v in ids.items()})
    return world


def test_sums_means_medians_shares_and_growth_match_a_hand_computation(app, seeded):
    with app.app_context():
        r = rollup.rollup(get_user("district_reviewer"), seeded["cycle"])
        gdp = r.totals["gdp"]
        assert (gdp.count, gdp.sum, gdp.mean, gdp.median) == (4, 145.5, 36.375, 10.5)  # 13 + 8 + 4.5 + 120
        rows = {row.org_unit_name: row for row in r.rows}
        assert set(rows) == {"青山镇", "溪口镇", "石桥镇", "东岭乡", "南塘镇", "柳湾街道"}
        qs = rows["青山镇"].cells["gdp"]
        assert (qs.value, qs.source, qs.previous) == (13.0, "confirmed", 10.0)
        assert qs.share == round(13 / 145.5, 6) and qs.growth == 0.3
        assert rows["溪口镇"].cells["gdp"].source == "extracted" and rows["溪口镇"].cells["gdp"].growth is None
        assert rows["石桥镇"].cells["gdp"].value == 4.5
        assert rows["东岭乡"].report_id is None and rows["东岭乡"].cells["gdp"].value is None
        revenue = r.totals["budget_revenue"]
        assert revenue.sum == pytest.approx(3200 + 2800 + 0.3 + 3100)
        assert r.previous_cycle is not None and r.previous_cycle.id == seeded["last"]


def test_outliers_are_flagged(app, seeded):
    with app.app_context():
        rows = {row.org_unit_name: row for row in rollup.rollup(get_user("district_reviewer"), seeded["cycle"]).rows}
        assert rows["南塘镇"].cells["gdp"].outlier == rollup.HIGH
        assert rows["石桥镇"].cells["budget_revenue"].outlier == rollup.UNIT
        assert rows["青山镇"].cells["gdp"].outlier is None


def test_sorting_and_filtering(app, seeded):
    with app.app_context():
        user = get_user("district_reviewer")

        def names(**kwargs) -> list[str]:
            return [r.org_unit_name for r in rollup.rollup(user, seeded["cycle"], **kwargs).rows]

        assert names(sort="gdp")[:4] == ["南塘镇", "青山镇", "溪口镇", "石桥镇"]
        assert names(sort="gdp")[4:] == ["东岭乡", "柳湾街道"]  # no value: last
        assert names(sort="-gdp")[:2] == ["石桥镇", "溪口镇"]
        assert names(flagged_only="1") == ["南塘镇", "石桥镇"]
        assert names(q="溪") == ["溪口镇"]


def test_the_api_answers_the_contract_and_the_workbook_reads_back(as_user, seeded):
    api = as_user("district_reviewer")
    body = api.get(f"/cycles/{seeded['cycle']}/rollup").get_json()
    assert {"indicators", "rows", "totals"} <= set(body)
    assert body["totals"]["gdp"]["sum"] == 145.5
    qs = next(r for r in body["rows"] if r["org_unit"]["name"] == "青山镇")
    assert qs["values"]["gdp"] == 13.0 and qs["sources"]["gdp"] == "confirmed" and qs["growth"]["gdp"] == 0.3
    assert [c["year"] for c in body["history"]["cycles"]] == [2025, 2026]

    r = api.get(f"/cycles/{seeded['cycle']}/rollup.xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.data))
    figures, charts = book.worksheets
    rows = {row[0]: row for row in figures.iter_rows(min_row=2, values_only=True) if row[0]}
    assert rows["青山镇"][1] == 13.0 and rows["石桥镇"][1] == 4.5
    assert figures.cell(row=1, column=2).value.startswith("地区生产总值")
    sums = next(row for name, row in rows.items() if name in ("合计", "Sum"))
    assert sums[1] == 145.5
    assert len(charts._charts) == len(body["indicators"])


def test_a_district_sees_only_its_towns(as_user, seeded):
    assert as_user("other_reviewer").get(f"/cycles/{seeded['cycle']}/rollup").status_code == 404
    own = as_user("qs_author").get(f"/cycles/{seeded['cycle']}/rollup").get_json()
    assert [r["org_unit"]["name"] for r in own["rows"]] == ["青山镇"]
    assert own["totals"]["gdp"]["sum"] == 13.0


def test_the_query_count_does_not_grow_with_the_towns(app, world):
    with app.app_context():
        add_six_towns(world)
        small = report_cycle(2026, org_unit_ids=[world["qs"], world["xk"]])
        for key in ("qs", "xk"):
            publish_summary(small, key, world, "5亿元", "1000万元")
        big = report_cycle(2027)
        for key in ("qs", "xk", "sq", "dl", "nt", "lw"):
            publish_summary(big, key, world, "5亿元", "1000万元", confirm={"gdp": 5.0} if key == "sq" else None)
        user = get_user("district_reviewer")
        assert user.positions  # loaded before counting, as a request's login does
        with count_queries() as two:
            rollup.rollup(user, small.id)
        with count_queries() as six:
            rollup.rollup(user, big.id)
        assert len(two) == len(six), (two, six)


def test_the_page_shows_the_table_and_the_chart_data(client, seeded):
    login(client, "district_reviewer")
    html = get_html(client, f"/cycles/{seeded['cycle']}/rollup")
    assert 'id="bar-chart"' in html and 'id="rollup-data"' in html and "echarts.min.js" in html
    assert "145.5" in html and "南塘镇" in html
    assert "/rollup" in get_html(client, f"/cycles/{seeded['cycle']}")


def test_across_years_each_town_has_a_line_and_each_year_a_sum(as_user, seeded):
    body = as_user("district_reviewer").get(f"/cycles/{seeded['cycle']}/rollup").get_json()
    history = body["history"]
    assert [c["id"] for c in history["cycles"]] == [seeded["last"], seeded["cycle"]]
    qs = next(t for t in history["towns"] if t["org_unit"]["id"] == seeded["qs"])
    assert qs["values"]["gdp"] == [10.0, 13.0]
    assert history["sums"]["gdp"] == [10.0, 145.5]
    assert history["sums"]["new_jobs"] == [None, None]
    last_year = as_user("district_reviewer").get(f"/cycles/{seeded['last']}/rollup").get_json()
    assert [c["year"] for c in last_year["history"]["cycles"]] == [2025]
    assert last_year["totals"]["gdp"]["sum"] == 10.0
