"""Stories about section ids across versions: an author edits the draft, the ids that comments
and diffs hang on stay with the sections (workflow.importer.ids, three matching passes)."""
from __future__ import annotations

import pytest

from workflow.importer import import_text, iter_sections
from workflow.importer.ids import Matching, same_heading, same_place, similar_heading

BEFORE = """一、基础设施
（一）道路硬化工程
完成村道硬化12公里。
（二）路灯安装
新装路灯300盏。
二、产业发展
（一）特色农业
发展茶叶种植。
"""


def ids_by_heading(outline):
    return {s["heading"]: s["id"] for s, _ in iter_sections(outline["sections"])}


def test_an_unchanged_heading_keeps_its_id_wherever_it_moves():
    before = import_text(BEFORE)
    # 道路硬化工程 moves from 一、 to 二、 and is renumbered (二); 路灯安装 becomes (一).
    after = import_text(BEFORE.replace("（一）道路硬化工程\n完成村道硬化12公里。\n（二）路灯安装",
                                       "（一）路灯安装")
                        + "（二）道路硬化工程\n完成村道硬化12公里。\n", previous=before)

    old, new = ids_by_heading(before), ids_by_heading(after)
    assert new == old
    moved = after["sections"][1]["children"][1]
    assert (moved["number"], moved["heading"], moved["id"]) == ("（二）", "道路硬化工程", old["道路硬化工程"])


def test_a_renamed_heading_keeps_the_id_of_its_place():
    before = import_text(BEFORE)
    after = import_text(BEFORE.replace("（二）路灯安装", "（二）太阳能路灯安装与维护"), previous=before)

    assert ids_by_heading(after)["太阳能路灯安装与维护"] == ids_by_heading(before)["路灯安装"]
    assert ids_by_heading(after)["道路硬化工程"] == ids_by_heading(before)["道路硬化工程"]


def test_a_new_section_gets_an_id_no_old_section_had():
    before = import_text(BEFORE)
    after = import_text(BEFORE + "（二）乡村旅游\n打造民宿集群。\n三、社会事业\n建成养老服务站。\n",
                        previous=before)

    old, new = ids_by_heading(before), ids_by_heading(after)
    assert {k: v for k, v in new.items() if k in old} == old
    assert new["乡村旅游"] not in old.values() and new["社会事业"] not in old.values()
    assert len(set(new.values())) == len(new)


def test_a_heading_written_twice_keeps_the_id_of_the_one_at_the_same_place():
    text = "一、甲\n（一）工作要求\n内容\n二、乙\n（一）工作要求\n内容\n"
    before = import_text(text)
    after = import_text("一、甲\n内容\n二、乙\n（一）工作要求\n内容\n", previous=before)

    assert after["sections"][1]["children"][0]["id"] == before["sections"][1]["children"][0]["id"]


# Each pass on its own: what it matches, and that it leaves the others' cases alone.
MOVED = ("一、甲\n（一）推进农村人居环境整治\n二、乙\n",
         "一、甲\n二、乙\n（一）推进农村人居环境整治\n")
RENAMED = ("一、甲\n（一）推进农村人居环境整治\n", "一、甲\n（一）推进农村厕所改造\n")
MOVED_AND_REWORDED = ("一、甲\n（一）推进农村人居环境整治\n二、乙\n",
                      "一、甲\n二、乙\n（一）推进农村人居环境综合整治\n")


@pytest.mark.parametrize("match, case, claims", [
    (same_heading, MOVED, True),
    (same_heading, RENAMED, False),
    (same_heading, MOVED_AND_REWORDED, False),
    (same_place, RENAMED, True),
    (same_place, MOVED, False),
    (same_place, MOVED_AND_REWORDED, False),
    (similar_heading, MOVED_AND_REWORDED, True),
    (similar_heading, RENAMED, False),
])
def test_each_matching_pass_carries_over_only_its_own_kind_of_change(match, case, claims):
    before, after = import_text(case[0]), import_text(case[1])
    subsection = before["sections"][0]["children"][0]
    matching = Matching.of(after["sections"], before)
    # The top-level headings 甲 and 乙 are unchanged: set them aside to look at the subsection.
    for index, (section, _) in enumerate(matching.new):
        if section["level"] == 1:
            matching.assigned[index] = section["id"]

    match(matching)

    assert (subsection["id"] in matching.assigned.values()) is claims
