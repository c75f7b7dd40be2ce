"""The job that makes a ready publication's missing approval form (审批单, ``pdf.approval_form``):
a publication published before forms existed, or whose publishing job ran out of retries
while making it. The download of a missing form queues it (``pdf.service``); one job per
publication at a time (RQ refuses a second with the same id), and the form itself is
recorded once whatever runs (``pdf.archive.archive_approval_form``)."""
from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError

from .approval_form import ensure_approval_form
from .jobs import ACTIVE, _job_app, _job_timeout, _retry, form_signing
from .queue import QueueUnavailable, get_queue, get_redis

log = logging.getLogger(__name__)


def approval_form_job_id(publication_id: int) -> str:
    return f"approval-form-p{publication_id}"


def make_approval_form(publication_id: int) -> str:
    """RQ job: :func:`pdf.approval_form.ensure_approval_form` for a publication that has none."""
    app = _job_app()
    with app.app_context():
        return ensure_approval_form(publication_id, form_signing(app.config))


def enqueue_approval_form(publication_id: int) -> str | None:
    """Queue the job that makes a ready publication's missing form (one job at a time per
    publication: RQ refuses a second with the same id). None when Redis is unreachable."""
    app = current_app
    job_id = approval_form_job_id(publication_id)
    try:
        connection = get_redis(app)
        queue = get_queue(app, connection)
        job = queue.fetch_job(job_id)
        if job is not None:
            if job.get_status(refresh=False) in ACTIVE:
                return job_id
            job.delete()
        queue.enqueue(make_approval_form, publication_id, job_id=job_id, unique=True, retry=_retry(app.config),
                      job_timeout=_job_timeout(app.config),
                      description=f"approval form of publication {publication_id}")
    except DuplicateJobError:
        return job_id
    except (QueueUnavailable, RedisError, OSError) as exc:
        log.warning("approval form of publication %s not queued: %s", publication_id, exc)
        return None
    return job_id

