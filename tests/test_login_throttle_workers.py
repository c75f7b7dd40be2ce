"""Login throttling holds across web workers: ``gunicorn -w 2`` on a real socket, both workers
counting in one real Redis (the embedded one, or REDIS_URL's). Wrong passwords sent two at a
time land on both workers (gunicorn's access log names the worker's pid), and the name is
throttled after the limit counted over both — not after twice the limit, as two workers
counting apart would allow."""
from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import API, PASSWORD
from tests.jobs_support import ROOT, jobs_app, redis_url, worker_env  # noqa: F401  (fixtures)

LIMIT = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post_token(port: int, password: str) -> tuple[int, dict, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", f"{API}/tokens", body=json.dumps({"username": "qs_author", "password": password}),
                     headers={"Content-Type": "application/json", "Accept-Language": "en", "Connection": "close"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("Retry-After")
    finally:
        conn.close()


def _wait_until_serving(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within a minute")


def _wait_until_both_workers_serve(port: int, log) -> None:
    """The first answer may come while the other worker is still importing the app (a busy
    machine): it would then take every request. Pages (not logins) until both have answered."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: _get(port, "/login"), range(8)))
        time.sleep(0.3)  # gunicorn writes its access log line after the answer
        pids = {line.split()[0] for line in log.read_text().splitlines() if line.endswith("/login")}
        if len(pids) >= 2:
            return
    raise AssertionError("the second gunicorn worker did not answer within a minute")


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    return conn.getresponse().status


@pytest.fixture
def two_workers(jobs_app, world, tmp_path):
    port = _free_port()
    log = tmp_path / "access.log"
    env = worker_env(jobs_app, LOGIN_LIMIT_PER_ACCOUNT=f"{LIMIT} per minute",
                     LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile", str(log),
         "--access-logformat", "%(p)s %(s)s %(U)s", "app:create_app()"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_serving(port, server)
        _wait_until_both_workers_serve(port, log)
        yield port, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_wrong_passwords_spread_over_two_workers_are_throttled_together(two_workers):
    port, log = two_workers
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: _post_token(port, "not-the-password"), range(16)))
    statuses = [status for status, _, _ in answers]
    failures = statuses.count(401)
    # Two at a time, a second attempt may pass the check while the first is being counted: at
    # most one over the limit. Two workers counting apart would answer up to 2 × LIMIT 401s.
    assert LIMIT <= failures <= LIMIT + 1, statuses
    assert statuses.count(429) == 16 - failures
    for status, body, retry_after in answers:
        if status == 429:
            assert body["error"]["reason"] == "login_attempts" and int(retry_after) > 0
            assert int(retry_after) == body["error"]["params"]["retry_after"]

    time.sleep(1)  # gunicorn writes its access log line after the answer
    lines = [line.split() for line in log.read_text().splitlines() if line.endswith(f"{API}/tokens")]
    pids_of_failures = {pid for pid, status, _ in lines if status == "401"}
    assert len(pids_of_failures) == 2, lines  # both workers answered wrong passwords

    status, body, retry_after = _post_token(port, PASSWORD)  # the right one waits too, on either worker
    assert status == 429 and int(retry_after) > 0
