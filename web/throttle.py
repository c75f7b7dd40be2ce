"""Login throttling: how many failed logins a client address and a username may have in a window,
across every web and worker process.

The ``limits`` library (Flask-Limiter's core) keeps the counts (moving windows) in the app's
Redis — ``REDIS_URL``, or the embedded one ``make run`` starts — so that every gunicorn worker
sees the same counts; with no Redis at all (a test without one) it counts in memory. Both front
doors (the login page and ``POST /api/v1/tokens``) go through :func:`guarded_login`: over a
limit, the answer is 429 with when to retry, before any password is looked at; otherwise the
attempt goes to ``workflow.credentials.attempt_login`` (lockout, record) and a failure counts
against the address and the name. Only failures count: an office behind one address logging in
all morning is never throttled.

If Redis does not answer, logins go on unthrottled (logged): the lockout, kept in the database,
still holds.
"""
from __future__ import annotations

import datetime as dt
import logging
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from workflow.credentials import LockoutPolicy, attempt_login, locked_error, locked_until
from workflow.dates import to_local
from workflow.errors import TooMany
from workflow.models import User, utcnow

log = logging.getLogger(__name__)
EXTENSION = "chengbao_login_throttle"


def client_address() -> str:
    """The client's address (behind ``FORWARDED_PROXIES`` proxies, the one they report)."""
    return request.remote_addr or "unknown"


def storage_uri(app: Flask) -> str:
    """Where the counts live: the queue's Redis (``pdf.queue.redis_url``), else memory."""
    from pdf.queue import redis_url

    url = redis_url(app)
    if not url:
        return "memory://"
    if url.startswith("unix://"):  # the embedded server's socket, in the limits library's spelling
        return "redis+unix://" + url[len("unix://"):]
    return url


class LoginThrottle:
    """The two limits of one app and the storage they count in.

    Only logins are limited, and only here: the ``limits`` library directly rather than the
    Flask-Limiter extension, whose hooks ran on every request of every page (and whose Redis
    client each web worker loaded at start) for limits this app never declares."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.config = app.config  # the limits are read on each use: a test may change them
        self._strategy: MovingWindowRateLimiter | None = None

    @property
    def strategy(self) -> MovingWindowRateLimiter:
        """The moving-window counter, its storage connected on the first login attempt."""
        if self._strategy is None:
            uri = storage_uri(self.app)
            # A Redis that does not answer must not hold a login up for long (see the module docstring).
            options = {} if uri == "memory://" else {"socket_connect_timeout": 2, "socket_timeout": 2}
            self._strategy = MovingWindowRateLimiter(storage_from_string(uri, **options))
        return self._strategy

    @property
    def prefix(self) -> str:
        return self.config["LOGIN_THROTTLE_PREFIX"]

    @property
    def per_account(self) -> list[RateLimitItem]:
        return parse_many(self.config["LOGIN_LIMIT_PER_ACCOUNT"])

    def _limits(self, address: str, username: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        per_address = parse_many(self.config["LOGIN_LIMIT_PER_ADDRESS"])
        return ([(item, (self.prefix, "address", address)) for item in per_address]
                + [(item, (self.prefix, "account", username)) for item in self.per_account])

    def wait(self, address: str, username: str) -> int:
        """Seconds until the address and the name may try again (0: now)."""
        strategy = self.strategy
        longest = 0.0
        try:
            for item, keys in self._limits(address, username):
                if not strategy.test(item, *keys):
                    reset_at = strategy.get_window_stats(item, *keys).reset_time
                    longest = max(longest, reset_at - time.time(), 0.001)  # over the limit: wait
        except Exception:  # any storage failure: unthrottled (the lockout still holds)
            log.warning("login throttle storage unavailable; not throttling", exc_info=True)
            return 0
        return max(1, int(longest) + 1) if longest > 0 else 0

    def failed(self, address: str, username: str) -> None:
        """Count a failed attempt against the address and the name."""
        try:
            for item, keys in self._limits(address, username):
                self.strategy.hit(item, *keys)
        except Exception:  # as in ``wait``
            log.warning("login throttle storage unavailable; failure not counted", exc_info=True)

    def forget(self, username: str) -> None:
        """Clear the name's count (an admin lifted its lockout)."""
        try:
            for item in self.per_account:
                self.strategy.clear(item, self.prefix, "account", username)
        except Exception:  # as in ``wait``
            log.warning("login throttle storage unavailable; count not cleared", exc_info=True)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = LoginThrottle(app)


def throttle() -> LoginThrottle:
    return current_app.extensions[EXTENSION]


def lockout_policy() -> LockoutPolicy:
    config = current_app.config
    return LockoutPolicy(failures=config["LOGIN_LOCKOUT_FAILURES"], minutes=config["LOGIN_LOCKOUT_MINUTES"])


def guarded_login(username: object, password: object, *, channel: str) -> User | None:
    """One login attempt through the throttle: the user, None for wrong credentials, or
    TooMany (``login_attempts`` over a limit, ``account_locked`` for a locked name) whose
    params say when to retry."""
    name = username.strip() if isinstance(username, str) else ""
    address = client_address()
    limits = throttle()
    wait = limits.wait(address, name)
    if wait:
        until = locked_until(name, lockout_policy())
        if until is not None:
            raise locked_error(until)
        retry_at = utcnow() + dt.timedelta(seconds=wait)
        raise TooMany("login_attempts", retry_after=wait, retry_at=retry_at.isoformat(timespec="seconds") + "Z",
                      at=to_local(retry_at).strftime("%H:%M:%S"))
    try:
        user = attempt_login(name, password, address=address, channel=channel, policy=lockout_policy())
    except TooMany:
        limits.failed(address, name)
        raise
    if user is None:
        limits.failed(address, name)
    return user


def retry_after_header(response, exc: TooMany):
    """Add ``Retry-After`` (seconds) to a 429 answer of a throttled or locked login."""
    seconds = exc.params.get("retry_after")
    if seconds:
        response.headers["Retry-After"] = str(seconds)
    return response
