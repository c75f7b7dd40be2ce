"""Full-text search at a province's scale (``make bench``): the province of ``bench_lists``
(100 districts, 1,500 towns, 12,000 reports), each report with about 650 characters of
plan-like Chinese text, indexed by the migration's backfill (``workflow.search.backfill``);
then the report list with ``q`` as a district reviewer (120 reports in scope) and as a user
who sees the whole province: median and p95 in ms for a 4-character query found in about a
third of the reports, a rare one (about 3 %), and a 2-character one (the LIKE fallback).

SQLite in a temporary directory by default; BENCH_DATABASE_URL for PostgreSQL (its tables are
dropped: use a scratch database).
"""
from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

# Paragraph material: a few hundred distinct phrases mixed per report, numbers varied.
SUBJECTS = ["特色产业", "茶叶产业", "乡村旅游", "民宿集聚区", "家庭农场", "农民专业合作社", "人居环境整治", "垃圾分类",
            "污水处理设施", "河道清淤", "村庄道路", "饮水安全工程", "中心小学", "卫生院", "养老服务中心", "文化礼堂",
            "便民服务中心", "数字乡村", "电商服务站", "冷链物流", "林下经济", "油茶基地", "蔬菜基地", "渔业养殖",
            "安全生产", "森林防火", "防汛抗旱", "基层党建", "网格化管理", "矛盾纠纷调解"]
VERBS = ["新建", "改造提升", "推进", "完善", "加快建设", "巩固", "培育", "整治", "扩建", "规范"]
UNITS = ["亩", "个", "公里", "家", "户", "处", "万元", "人次"]
HEADINGS = ["一、", "二、", "三、", "四、", "五、"]
RARE = "智慧灌溉系统"  # in about 3 % of the reports
COMMON = "乡村振兴"  # in about a third
QUERIES = {"common_4_chars": COMMON, "rare_4_chars": "智慧灌溉", "short_2_chars": "油茶"}


def outline_for(rid: int) -> dict:
    rng = random.Random(rid)
    sections = []
    for n, number in enumerate(HEADINGS):
        paragraphs = []
        for _ in range(3):
            subject = rng.choice(SUBJECTS)
            sentence = (f"{rng.choice(VERBS)}{subject}{rng.randint(2, 900)}{rng.choice(UNITS)}，"
                        f"{rng.choice(VERBS)}{rng.choice(SUBJECTS)}，力争年底前完成{subject}建设任务。")
            if rng.random() < 0.025:
                sentence += f"全面推进{COMMON}，建设宜居宜业和美乡村。"
            if rng.random() < 0.002:
                sentence += f"试点建设{RARE}，提高用水效率。"
            paragraphs.append(sentence)
        sections.append({"id": f"s{n}", "level": 1, "number": number, "heading": rng.choice(SUBJECTS),
                         "paragraphs": paragraphs, "children": []})
    return {"preamble": ["为做好本年度工作，现将计划报告如下。"], "sections": sections, "closing": []}


def _timed(fn, repeat: int = 21) -> dict:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2)}


def main() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from app import create_app
    from bench.bench_lists import load_province
    from workflow import search, services
    from workflow.db import db
    from workflow.models import OrgUnit, Position, User

    tmp = Path(tempfile.mkdtemp(prefix="chengbao-bench-search-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(tmp), "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        loaded = load_province(db, outline_for)
        start = time.perf_counter()
        with db.engine.begin() as connection:
            indexed = search.backfill(connection)
        index_s = time.perf_counter() - start
        everyone = User(username="province", display_name="province", password_hash="x")
        db.session.add(everyone)
        db.session.flush()
        districts = db.session.scalars(db.select(OrgUnit.id).where(OrgUnit.parent_id.is_(None))).all()
        db.session.add_all([Position(user_id=everyone.id, org_unit_id=d, role="district_reviewer") for d in districts])
        db.session.commit()
        if url.startswith("sqlite"):
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        reviewer = db.session.get(User, loaded["reviewer_id"])
        province = db.session.get(User, everyone.id)
        body_chars = db.session.scalar(db.select(db.func.sum(db.func.length(search.ReportSearch.body))))
        figures: dict = {"backend": url.split(":", 1)[0], "reports": loaded["reports"], "indexed": indexed,
                         "text_characters": int(body_chars or 0), "index_seconds": round(index_s, 2),
                         "how": _how(db, search)}
        for name, q in QUERIES.items():
            figures[name] = {"q": q}
            for scope, user in (("district", reviewer), ("province", province)):
                figures[name][scope] = {"matches": services.list_reports(user, q=q).total,
                                        **_timed(lambda q=q, user=user: services.list_reports(user, q=q))}
        figures["district_4_chars_with_state_filter"] = _timed(
            lambda: services.list_reports(reviewer, q=COMMON, state="district_review"))
        db.session.remove()
        if not url.startswith("sqlite"):
            db.drop_all()
        db.engine.dispose()
    return figures


def _how(db, search) -> str:
    """How searches run on this database (FTS5, pg_trgm, or unindexed ILIKE)."""
    if db.engine.dialect.name == "sqlite":
        return "fts5 trigram"
    return "pg_trgm" if search._has_trgm() else "ilike (no pg_trgm)"


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
