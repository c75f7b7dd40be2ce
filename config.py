"""Configuration: everything an operator may set comes from the environment.

The embedded default needs no variables at all: SQLite and the archive live in
``instance/``, the embedded Redis is started by ``make run`` (see ``run.py``).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _instance_dir() -> Path:
    return Path(os.environ.get("CHENGBAO_INSTANCE", BASE_DIR / "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """Use SECRET_KEY from the environment, else a random key kept in instance/ (never in the repo)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance.mkdir(parents=True, exist_ok=True)
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class Config:
    """Read once at start-up; tests pass overrides to ``create_app``."""

    def __init__(self) -> None:
        instance = _instance_dir()
        self.INSTANCE_DIR = str(instance)
        self.SECRET_KEY = _secret_key(instance)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'chengbao.sqlite3'}"
        )
        if self.SQLALCHEMY_DATABASE_URI.startswith("postgres://"):
            self.SQLALCHEMY_DATABASE_URI = "postgresql://" + self.SQLALCHEMY_DATABASE_URI[len("postgres://"):]
        # None means: the embedded Redis that run.py starts (or none at all in tests
        # that do not enqueue); a URL points at a Redis server.
        self.REDIS_URL = os.environ.get("REDIS_URL")
        self.ARCHIVE_DIR = os.environ.get("ARCHIVE_DIR", str(instance / "archive"))
        self.KEYS_DIR = os.environ.get("KEYS_DIR", str(instance / "keys"))
        self.SIGNING_P12_PASSPHRASE = os.environ.get("SIGNING_P12_PASSPHRASE")
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
        # The RFC 3161 time-stamp authority of the signed PDFs (PAdES B-LTA); unset: the
        # app's own development TSA at PUBLIC_BASE_URL/tsa.
        self.TSA_URL = os.environ.get("TSA_URL")
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_BYTES", 5 * 1024 * 1024))
        self.API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", 12))
        self.PAGE_SIZE = 20
        self.BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
        self.BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
        self.LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.WTF_CSRF_TIME_LIMIT = None  # a clerk may keep a draft open all afternoon
        # Notifications by e-mail (off while SMTP_HOST is unset) and to group channels.
        self.SMTP_HOST = os.environ.get("SMTP_HOST")
        self.SMTP_PORT = int(os.environ.get("SMTP_PORT") or 25)
        self.SMTP_USER = os.environ.get("SMTP_USER")
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
        self.SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes", "on")
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "chengbao@localhost")
        self.NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT") or 10)
        # Robots and webhooks at loopback, private or link-local addresses are refused unless
        # this is set (an intranet deployment whose OA system listens on 10.x, for example).
        self.NOTIFY_ALLOW_INTERNAL_URLS = os.environ.get("NOTIFY_ALLOW_INTERNAL_URLS", "").lower() in (
            "1", "true", "yes", "on")
        # Automatic reminders (催办) of reporting cycles: this many days before the due date,
        # and an escalation to the town reviewers this many days after an unanswered reminder.
        self.CYCLE_REMIND_DAYS_BEFORE = int(os.environ.get("CYCLE_REMIND_DAYS_BEFORE", 3))
        self.CYCLE_ESCALATE_AFTER_DAYS = int(os.environ.get("CYCLE_ESCALATE_AFTER_DAYS", 2))
        self.FONT_BODY = os.environ.get("FONT_BODY")
        self.FONT_HEITI = os.environ.get("FONT_HEITI")
        self.FONT_KAITI = os.environ.get("FONT_KAITI")
        self.FONT_TITLE = os.environ.get("FONT_TITLE")

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
