"""Configuration: everything an operator may set comes from the environment.

The embedded default needs no variables at all: SQLite and the archive live in
``instance/``, the embedded Redis is started by ``make run`` (see ``run.py``).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent


def _instance_dir() -> Path:
    return Path(os.environ.get("CHENGBAO_INSTANCE", BASE_DIR / "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """Use SECRET_KEY from the environment, else a random key kept in instance/ (never in the repo)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    private_dir(instance)
    key_file = instance / "secret_key"
    if not key_file.exists():
        private_file(key_file).write_text(secrets.token_hex(32))
    return key_file.read_text().strip()


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")
def private_dir(path: Path) -> Path:
    """A directory only its owner may enter (0700), created if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """A file only its owner may read (0600), created empty if missing."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)
    return path


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///…`` URL (None for another database or memory)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url in (prefix, prefix + ":memory:"):
        return None
    return Path(url[len(prefix):].split("?", 1)[0])


def prepare_instance(config: dict | Any) -> None:
    """The instance's private parts, before anything writes into them: the instance, archive
    and keys directories 0700 and the SQLite database file 0600 (SQLite gives its -wal and
    -shm files the database file's mode). Nobody else on the machine reads the reports,
    the signed PDFs or the keys."""
    for key in ("INSTANCE_DIR", "ARCHIVE_DIR", "KEYS_DIR"):
        private_dir(Path(config[key]))
    database = sqlite_path(config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        if not database.parent.exists():
            private_dir(database.parent)
        private_file(database)
        for suffix in ("-wal", "-shm"):
            side = database.with_name(database.name + suffix)
            if side.exists():
                side.chmod(0o600)


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
        # Signed checkpoints of the audit chains (pdf/checkpoints.py); None: INSTANCE_DIR/audit-checkpoints.
        self.AUDIT_CHECKPOINT_DIR = os.environ.get("AUDIT_CHECKPOINT_DIR")
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
        # The RFC 3161 time-stamp authority of the signed PDFs (PAdES B-LTA); unset: the
        # app's own development TSA at PUBLIC_BASE_URL/tsa.
        self.TSA_URL = os.environ.get("TSA_URL")
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_BYTES", 5 * 1024 * 1024))
        # A form's text field (the report editor's pasted text) may hold workflow.content's
        # MAX_TEXT_CHARS (300,000) characters: up to 3 bytes each in UTF-8 (4 outside the BMP), and
        # a browser sends CRLF line breaks. Flask's default (500 kB) refused ~166,000 hanzi with a 413.
        self.MAX_FORM_MEMORY_SIZE = 4 * 300_000 + 300_000
        self.API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", 12))
        self.PAGE_SIZE = 20
        self.BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
        self.BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
        self.LANGUAGES = {"zh_Hans_CN": "中文", "en": "English"}
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Production behind TLS: cookies only over HTTPS, HSTS, https:// in generated URLs, and
        # the client address and scheme that FORWARDED_PROXIES reverse proxies report.
        self.SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE")
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS") or 0)
        self.PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
        self.FORWARDED_PROXIES = int(os.environ.get("FORWARDED_PROXIES") or 0)
        # Logins: failed attempts allowed per client address and per username (Flask-Limiter's
        # notation, counted in Redis), and the lockout of a name after repeated failures.
        self.LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "30 per minute")
        self.LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "30 per hour")
        self.LOGIN_LOCKOUT_FAILURES = int(os.environ.get("LOGIN_LOCKOUT_FAILURES") or 20)
        self.LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES") or 15)
        self.LOGIN_THROTTLE_PREFIX = "chengbao-login"
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
        # Jobs that never stall: the sweeper (``flask sweep --every``, and the ``make run``
        # launcher) runs every SWEEP_INTERVAL seconds; a running PDF job beats every
        # PDF_HEARTBEAT_SECONDS and is presumed dead after PDF_STALE_AFTER seconds of silence.
        self.SWEEP_INTERVAL = float(os.environ.get("SWEEP_INTERVAL") or 5)
        self.PDF_HEARTBEAT_SECONDS = float(os.environ.get("PDF_HEARTBEAT_SECONDS") or 2)
        if os.environ.get("PDF_STALE_AFTER"):
            self.PDF_STALE_AFTER = float(os.environ["PDF_STALE_AFTER"])
        self.FONT_BODY = os.environ.get("FONT_BODY")
        self.FONT_HEITI = os.environ.get("FONT_HEITI")
        self.FONT_KAITI = os.environ.get("FONT_KAITI")
        self.FONT_TITLE = os.environ.get("FONT_TITLE")

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
