"""Small hardening edges: a 405 names the allowed methods, the OpenAPI states its one-of
rules, the org-unit form keeps the hierarchy well-formed, and a failed publication tells
a reviewer why without showing a server path."""
from __future__ import annotations

from tests.helpers import API, Api, ensure_translations_compiled, error_of, login

ensure_translations_compiled()


# ---------------------------------------------------------------- 405 names what is allowed


def _allowed(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


def test_a_page_answers_405_with_allow(client, world):
    login(client, "qs_author")
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in _allowed(response) and "GET" not in _allowed(response)
    assert response.mimetype == "text/html"


def test_the_api_answers_405_with_allow(client, world):
    api = Api(client, "qs_author")
    response = client.delete(API + "/reports", headers=api.headers())
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= _allowed(response) and "DELETE" not in _allowed(response)
