"""The JSON API (``/api/v1``): bearer tokens, marshmallow schemas, a generated OpenAPI document."""
