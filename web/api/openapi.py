"""``/api/v1/openapi.json``, generated: the paths are the blueprint's URL rules, each
operation is the YAML after ``---`` in its view's docstring, and the bodies are the
marshmallow schemas the views load and dump with. A test checks that the document and
the URL map list the same endpoints.
"""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask

from . import schemas
from .cycle_schemas import TemplateField

BLUEPRINT = "api"
_IGNORED_METHODS = {"HEAD", "OPTIONS"}
_CONVERTER_TYPES = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number"},
                    "uuid": {"type": "string", "format": "uuid"}}
_RULE_ARG = re.compile(r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")

ERROR_RESPONSES = {
    "BadRequest": "malformed JSON, wrong types, missing or unknown fields (`error.fields` says which)",
    "Unauthorized": "no token, or a bad or expired one",
    "Forbidden": "the caller's role does not allow this",
    "NotFound": "absent, or outside the caller's scope (the same answer)",
    "Conflict": "a stale version, or a state that does not allow this",
    "TooLarge": "the body or a text exceeds the limits",
    "Invalid": "invalid: a return without a reason, a submit with blocking problems (`error.problems`)",
    "TooMany": "too many attempts: `Retry-After` (seconds) and `params.retry_after` say when to try again",
}

DESCRIPTION = """\
The JSON API of Chengbao (呈报): towns submit reports, town and district reviewers approve or
return them, approval publishes a signed PDF.

Get a token with `POST /api/v1/tokens`, then send `Authorization: Bearer <token>`. Every write
of a report names the `version` the client loaded; a stale one answers 409. Errors answer
`{"error": {"code", "reason", "message", "params"}}`: `code` is the category (one per status),
`reason` what exactly went wrong, `message` a sentence in the language of `Accept-Language`
(Chinese by default, English when it prefers `en`). Request bodies are strict: unknown fields
answer 400.
"""


def openapi_path(rule: str) -> str:
    """``/reports/<int:report_id>`` → ``/reports/{report_id}``."""
    return _RULE_ARG.sub(lambda m: "{" + m.group("name") + "}", rule)


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [{"in": "path", "name": m.group("name"), "required": True,
             "schema": dict(_CONVERTER_TYPES.get(m.group("converter") or "", {"type": "string"}))}
            for m in _RULE_ARG.finditer(rule)]


def _outline_ref(self, field, **kwargs) -> dict:
    """Describe ``OutlineField`` (passed through verbatim) as the ``Outline`` schema, and a
    cycle's ``TemplateField`` as pasted text or that schema."""
    if isinstance(field, schemas.OutlineField):
        return {"allOf": [{"$ref": "#/components/schemas/Outline"}]}
    if isinstance(field, TemplateField):
        return {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/Outline"}]}
    return {}


def _empty_query_value(self, field, ret, **kwargs) -> dict:
    """A query parameter sent empty (``?status=``) means "no filter" (``web.api.base.query_args``)."""
    return {"allowEmptyValue": True} if ret.get("in") == "query" else {}


def build_spec(app: Flask) -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Chengbao API", version="1.0.0", openapi_version="3.0.3", plugins=[plugin],
        info={"description": DESCRIPTION},
        security=[{"bearerAuth": []}],
    )
    plugin.converter.add_attribute_function(_outline_ref)
    plugin.converter.add_parameter_attribute_function(_empty_query_value)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "a token from POST /api/v1/tokens"})
    for schema in schemas.COMPONENTS:
        name = schema.__name__.removesuffix("Schema")
        if name not in spec.components.schemas:  # already there when nested in an earlier one
            # A schema's rules across fields (``OPENAPI_RULES``: oneOf, not …) join its properties.
            spec.components.schema(name, component=getattr(schema, "OPENAPI_RULES", None), schema=schema)
    for name, description in ERROR_RESPONSES.items():
        spec.components.response(name, {"description": description, "content": {
            "application/json": {"schema": "ErrorSchema"}}})

    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(BLUEPRINT + "."):
            continue
        view = app.view_functions[rule.endpoint]
        documented = load_operations_from_docstring(view.__doc__ or "")
        methods = sorted(m.lower() for m in (rule.methods or set()) - _IGNORED_METHODS)
        entry = paths.setdefault(rule.rule, {"operations": {}, "parameters": _path_parameters(rule.rule)})
        for method in methods:
            if method not in documented:
                raise RuntimeError(f"{rule.endpoint}: the docstring documents no {method.upper()} operation")
            operation = dict(documented[method])
            operation.setdefault("operationId", rule.endpoint.split(".", 1)[1])
            entry["operations"][method] = operation
    for rule_path in sorted(paths):
        entry = paths[rule_path]
        spec.path(path=openapi_path(rule_path), operations=entry["operations"],
                  parameters=entry["parameters"] or None)
    return spec


def spec_for(app: Flask) -> dict:
    """The document, built once per application."""
    cached = app.extensions.get("chengbao_openapi")
    if cached is None:
        cached = app.extensions["chengbao_openapi"] = build_spec(app).to_dict()
    return cached
