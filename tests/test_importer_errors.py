"""Content the importer refuses: a BadInput with a reason and the path of the bad value, which
the edge words in the reader's language (workflow.importer.errors, web/messages.py)."""
from __future__ import annotations

import pytest

from tests.helpers import ensure_translations_compiled
from web.messages import MESSAGES, render
from workflow.errors import BadInput
from workflow.importer import ContentError, import_docx, import_text, validate_outline

ensure_translations_compiled()


def refusal(call, *args):
    with pytest.raises(ContentError) as error:
        call(*args)
    return error.value


@pytest.mark.parametrize("call, arg, reason, params", [
    (import_text, b"bytes", "text_not_string", {}),
    (import_docx, b"PK\x03\x04not really a zip", "docx_unreadable", {}),
    (validate_outline, [], "outline_not_object", {"path": "outline"}),
    (validate_outline, {"sections": [], "title": "x"}, "outline_unknown_key", {"path": "title"}),
    (validate_outline, {"sections": [{"number": "一、", "heading": "甲"}]}, "outline_missing",
     {"path": "sections[0].paragraphs"}),
    (validate_outline, {"sections": [{"number": "第一条", "heading": "甲", "paragraphs": []}]},
     "outline_bad_number", {"path": "sections[0].number", "number": "第一条"}),
    (validate_outline, {"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "level": 2}]},
     "outline_wrong_level", {"path": "sections[0].level", "depth": 1, "level": 2}),
    (validate_outline, {"sections": [{"number": "一、", "heading": "甲", "paragraphs": [], "id": "a"},
                                     {"number": "二、", "heading": "乙", "paragraphs": [], "id": "a"}]},
     "outline_duplicate_id", {"path": "sections[1].id", "id": "a"}),
])
def test_refused_content_is_bad_input_with_a_reason_and_the_bad_path(call, arg, reason, params):
    error = refusal(call, arg)

    assert isinstance(error, BadInput) and error.status == 400
    assert (error.key, error.params) == (f"bad_request.{reason}", params)
    assert error.key in MESSAGES


def test_the_refusal_is_worded_in_the_readers_language(app):
    error = refusal(validate_outline, {"sections": [{"number": "一、", "heading": "甲", "paragraphs": [3]}]})

    with app.test_request_context("/"):
        assert render(error) == "内容格式错误：sections[0].paragraphs[0] 必须是字符串"
    with app.test_request_context("/"):
        from flask import session

        session["locale"] = "en"
        assert render(error) == "Malformed content: sections[0].paragraphs[0] must be a string."
        assert render(refusal(import_docx, b"")).startswith("This .docx file cannot be read")


def test_every_reason_the_importer_raises_has_a_message():
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "workflow" / "importer"
    reasons = {m for path in package.rglob("*.py")
               for m in re.findall(r'ContentError\(\s*"(\w+)"', path.read_text(encoding="utf-8"))}

    assert len(reasons) >= 15
    assert {f"bad_request.{r}" for r in reasons} <= set(MESSAGES)
