"""The outside channels: e-mail over SMTP, 企业微信 and 钉钉 group robots, JSON webhooks.

Each sender raises ``Undelivered`` when the receiver certainly did not take the message
(it could not be reached, or it answered with an error) and lets any other exception
through when the outcome is unknown (the connection broke after the message was sent):
``workflow.outbox`` retries the first and never the second (see its docstring).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import quote_plus, urlsplit

from workflow.notifications import is_internal_address
from workflow.outbox import Undelivered


class Permanent(Undelivered):
    """Refused in a way that retrying cannot mend (a 4xx answer, a deleted channel)."""


# ---------------------------------------------------------------- e-mail


def email_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("SMTP_HOST"))


def send_email(config: Mapping[str, Any], *, to: str, subject: str, body: str, message_id: str) -> None:
    """One plain-text e-mail. ``message_id`` (from the idempotency key) lets a mailbox that
    sees the same message twice — after an admin's retry — recognise it."""
    msg = EmailMessage()
    msg["From"] = config.get("MAIL_FROM") or "chengbao@localhost"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = (msg["From"].rpartition("@")[2] or "localhost").strip("> ")
    msg["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', message_id)}@{domain}>"
    msg.set_content(body)
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25)
    timeout = float(config.get("NOTIFY_TIMEOUT") or 20)
    try:
        if port == 465:
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("SMTP_STARTTLS") and port != 465:
            server.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USER"):
            server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    except (OSError, smtplib.SMTPException) as exc:  # nothing was handed over yet
        raise Undelivered(f"SMTP {host}:{port}: {exc}") from exc
    try:
        server.send_message(msg)
    except smtplib.SMTPResponseException as exc:  # the server answered: it refused the message
        raise Undelivered(f"SMTP refused: {exc.smtp_code} {exc.smtp_error!r}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise Permanent(f"SMTP refused the recipient: {exc.recipients}") from exc
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass


# ---------------------------------------------------------------- HTTP


def post_json(url: str, payload: Any, *, timeout: float = 10, headers: Mapping[str, str] | None = None,
              data: bytes | None = None, allow_internal: bool = False) -> bytes:
    """POST ``payload`` as JSON; the answer's body. Connection failures and error answers
    raise ``Undelivered``; a connection lost while waiting for the answer propagates.
    Unless ``allow_internal``, nothing is sent to a peer at an internal address (checked on the
    connected socket, so a name that resolves inward is caught too): ``Permanent``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Permanent(f"not an http(s) URL: {url[:80]}")
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = cls(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if data is None:
        data = json.dumps(payload, ensure_ascii=False).encode()
    try:
        try:
            connection.connect()
        except OSError as exc:
            raise Undelivered(f"cannot connect to {parts.hostname}: {exc}") from exc
        peer = connection.sock.getpeername()[0] if connection.sock is not None else ""
        if not allow_internal and peer and is_internal_address(peer):
            raise Permanent(f"{parts.hostname} is an internal address ({peer}); "
                            "set NOTIFY_ALLOW_INTERNAL_URLS to allow it")
        connection.request("POST", path, body=data, headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "Chengbao", **(headers or {})})
        response = connection.getresponse()
        body = response.read(1024 * 1024)
    finally:
        connection.close()
    if response.status in (408, 429) or response.status >= 500:
        raise Undelivered(f"HTTP {response.status}")
    if response.status >= 300:
        raise Permanent(f"HTTP {response.status}: {body[:200]!r}")
    return body


def _robot_answer(body: bytes) -> None:
    """企业微信 and 钉钉 answer 200 with ``{"errcode": 0, "errmsg": "ok"}``; anything else is a refusal."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        raise Undelivered(f"unexpected answer: {body[:200]!r}") from None
    if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, "0"):
        raise Undelivered(f"errcode {answer.get('errcode')}: {str(answer.get('errmsg'))[:200]}")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def md(text: str) -> str:
    """User text inside a robot's markdown: no links or formatting of its own."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text or "")


def wecom_message(title: str, body: str, url: str, open_label: str) -> dict[str, Any]:
    """企业微信 群机器人: ``{"msgtype": "markdown", "markdown": {"content": …}}`` (≤ 4096 bytes)."""
    content = f"**{md(title)}**\n> {md(body)}\n[{open_label}]({url})"
    encoded = content.encode()
    if len(encoded) > 4096:
        content = encoded[:4000].decode(errors="ignore") + f"…\n[{open_label}]({url})"
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_message(title: str, body: str, url: str, open_label: str) -> dict[str, Any]:
    """钉钉 自定义机器人: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``."""
    return {"msgtype": "markdown", "markdown": {"title": title[:100],
                                                "text": f"#### {md(title)}\n\n{md(body)}\n\n[{open_label}]({url})"}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉's signature: base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_url(url: str, secret: str | None, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"


def post_wecom(url: str, message: dict[str, Any], *, timeout: float = 10, allow_internal: bool = False) -> None:
    _robot_answer(post_json(url, message, timeout=timeout, allow_internal=allow_internal))


def post_dingtalk(url: str, secret: str | None, message: dict[str, Any], *, timeout: float = 10,
                  allow_internal: bool = False) -> None:
    _robot_answer(post_json(dingtalk_url(url, secret), message, timeout=timeout, allow_internal=allow_internal))


def post_webhook(url: str, secret: str | None, payload: dict[str, Any], *, key: str, timeout: float = 10,
                 allow_internal: bool = False) -> None:
    """A plain JSON webhook: the notification JSON plus ``org_unit_id``. The delivery's key is
    in ``X-Chengbao-Delivery`` (a receiver can ignore a repeat after an admin's retry); with
    a secret, ``X-Chengbao-Signature`` is ``sha256=`` HMAC-SHA256(secret, body) in hex."""
    headers = {"X-Chengbao-Delivery": key, "X-Chengbao-Event": str(payload.get("event", ""))}
    body = json.dumps(payload, ensure_ascii=False).encode()
    if secret:
        headers["X-Chengbao-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    post_json(url, payload, timeout=timeout, headers=headers, data=body, allow_internal=allow_internal)
