"""The JSON API (``/api/v1``): bearer tokens, marshmallow schemas, a generated OpenAPI document.

One blueprint (``base.bp``); importing the package registers every view module on it."""

from . import accounts, bulk, cycles, indicators, notifications, org_units, positions, routes  # noqa: F401  (their views join the api blueprint)
