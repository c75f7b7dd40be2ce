"""CLI commands of the PDF layer (signing keys, job sweeper). Filled in by the jobs work."""
from flask import Flask


def register_cli(app: Flask) -> None:
    return None
