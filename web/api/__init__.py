"""The JSON API (``/api/v1``): bearer tokens, marshmallow schemas, a generated OpenAPI document."""

from . import notifications  # noqa: E402,F401  (its views join the api blueprint)
