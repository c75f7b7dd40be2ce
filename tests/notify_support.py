"""Real receivers for the notification tests: an SMTP server (aiosmtpd) and an HTTP server
on 127.0.0.1 that plays 企业微信, 钉钉 (checking the signature) and a JSON webhook."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

DINGTALK_SECRET = "SEC0123456789abcdef-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1; ``.messages`` is [(recipients, EmailMessage)]."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@dataclass
class Post:
    path: str
    query: dict
    headers: dict
    body: dict
    signature_ok: bool | None = None


@dataclass
class Receiver:
    """What the HTTP receiver got. ``slow_first``: seconds the first request waits before it
    is answered (it is recorded on arrival); ``status``: the answer's status code."""

    posts: list[Post] = field(default_factory=list)
    slow_first: float = 0
    status: int = 200
    port: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, prefix: str) -> list[Post]:
        return [p for p in self.posts if p.path.startswith(prefix)]


def _dingtalk_signature_ok(query: dict) -> bool:
    try:
        timestamp = query["timestamp"][0]
        sign = query["sign"][0]
    except (KeyError, IndexError):
        return False
    if abs(int(timestamp) - time.time() * 1000) > 3600 * 1000:  # 钉钉 refuses stale timestamps
        return False
    expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, sign)


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            post = Post(parts.path, query, dict(self.headers), json.loads(raw))
            if parts.path.startswith("/dingtalk"):
                post.signature_ok = _dingtalk_signature_ok(query)
            first = not state.posts
            state.posts.append(post)
            if first and state.slow_first:
                state.release.wait(state.slow_first)
            answer = {"errcode": 0, "errmsg": "ok"}
            if post.signature_ok is False:
                answer = {"errcode": 310000, "errmsg": "sign not match"}
            data = json.dumps(answer).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client is gone (a killed worker)
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
