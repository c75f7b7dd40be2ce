"""Running the outbox on the job queue.

- :func:`request_dispatch` — after a commit that wrote events (the session hook of
  ``notify.init_app``), the web process queues one :func:`run_dispatch` job. A Redis flag
  keeps at most one such job waiting: the job clears the flag before it reads the
  database, so an event committed while it runs queues the next job, and one committed
  before is seen by this one. Without Redis the commit stands and the sweeper catches up.
- :func:`run_dispatch` — the RQ job: ``workflow.outbox.dispatch`` (plan, then send), and a
  later run scheduled for deliveries waiting to be retried.
- :func:`sweep` — part of ``flask sweep`` and of the worker's start (and ``make run``'s
  periodic sweep): leases of dead workers expire, and a dispatch is queued whenever events
  or due deliveries wait (Redis was down at commit, a job was lost in a Redis restart).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError

from workflow import outbox

log = logging.getLogger(__name__)

# Its own queue, listed before the PDF queue by the worker: a notification does not wait
# behind a 40-page render.
QUEUE_NAME = "chengbao-events"
FLAG = "chengbao:outbox:dispatch-queued"
RETRY_FLAG = "chengbao:outbox:retry-scheduled"
FLAG_TTL = 600  # seconds: a flag whose job was lost stops blocking after this
JOB_TIMEOUT = 900
MAX_SECONDS = 300  # a job hands over to the next one after this, well inside JOB_TIMEOUT


def settings(config: Any) -> outbox.Settings:
    intervals = config.get("NOTIFY_RETRY_INTERVALS")
    return outbox.Settings(
        lease=dt.timedelta(seconds=float(config.get("NOTIFY_LEASE_SECONDS") or 120)),
        retry_intervals=(tuple(float(x) for x in intervals) if intervals is not None
                         else outbox.Settings().retry_intervals),
    )


def events_queue(app_or_config: Any = None, connection: Any = None):
    """The queue of the outbox's dispatch jobs, on the job queue's Redis."""
    from rq import Queue

    from pdf.queue import get_redis

    config = current_app.config if app_or_config is None else getattr(app_or_config, "config", app_or_config)
    return Queue(config.get("EVENTS_QUEUE_NAME") or QUEUE_NAME,
                 connection=connection if connection is not None else get_redis(config))


def request_dispatch(app: Flask | None = None, *, force: bool = False) -> bool:
    """Queue a dispatch job unless one is already waiting (``force``: queue one anyway).
    False when no Redis is reachable (logged; the sweeper catches up)."""
    from pdf.queue import QueueUnavailable, get_redis

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        connection = get_redis(app)
        fresh = connection.set(FLAG, "1", nx=True, ex=FLAG_TTL)
        if not fresh and not force:
            return True
        if force and not fresh:
            connection.set(FLAG, "1", ex=FLAG_TTL)
        try:
            events_queue(app, connection).enqueue(run_dispatch, job_timeout=JOB_TIMEOUT, result_ttl=300,
                                               failure_ttl=86400, description="deliver outbox events")
        except BaseException:
            connection.delete(FLAG)
            raise
    except QueueUnavailable as exc:  # no Redis configured at all (tests, a CLI without `make run`)
        log.debug("outbox: events wait for the sweeper (%s)", exc)
        return False
    except (RedisError, OSError) as exc:
        log.warning("outbox: events wait for the sweeper: Redis unreachable (%s)", exc)
        return False
    return True


def _schedule_retry(app: Flask, when: dt.datetime) -> None:
    """One later run for deliveries whose retry interval has not passed (RQ's scheduler
    moves it to the queue; the sweeper is the backstop)."""
    from pdf.queue import get_redis

    delay = max(1, int((when - outbox.utcnow()).total_seconds()) + 1)
    try:
        connection = get_redis(app)
        if connection.set(RETRY_FLAG, "1", nx=True, ex=delay + 30):
            events_queue(app, connection).enqueue_in(dt.timedelta(seconds=delay), run_dispatch, job_timeout=JOB_TIMEOUT,
                                                  result_ttl=300, description="retry outbox deliveries")
    except (RedisError, OSError) as exc:
        log.warning("outbox: retry not scheduled (%s); the sweeper will pick it up", exc)


def run_dispatch() -> dict[str, Any]:
    """RQ job: deliver every pending outbox event and due delivery."""
    from pdf.jobs import _job_app  # the worker's application (pdf/jobs.py decides it once)

    app = _job_app()
    with app.app_context():
        from pdf.queue import get_redis

        try:
            connection = get_redis(app)
            connection.delete(FLAG)
            if outbox.backlog()["later"] == 0:
                connection.delete(RETRY_FLAG)
        except (RedisError, OSError):
            pass
        result = outbox.dispatch(settings(app.config), max_seconds=MAX_SECONDS)
        if result.unfinished:
            request_dispatch(app, force=True)  # a long backlog continues in a fresh job
        if result.next_due_at is not None:
            _schedule_retry(app, result.next_due_at)
        return result.as_dict()


def sweep() -> dict[str, Any]:
    """Expire the leases of dead workers and queue a dispatch when anything waits."""
    requeued, failed = outbox.expire_leases()
    waiting = outbox.backlog()
    queued = None
    if waiting["events"] or waiting["due"]:
        queued = request_dispatch(force=True)
    result: dict[str, dict[str, Any]] = {"outbox": {
        "waiting_events": waiting["events"], "due_deliveries": waiting["due"], "later_deliveries": waiting["later"],
        "leases_requeued": requeued, "leases_failed": failed, "dispatch_queued": queued}}
    if queued is False:
        result["outbox"]["unavailable"] = "no Redis reachable"
    return result
