"""The queue at the speed of the renderer: the work horse kept from job to job (and a
killed one handled as RQ handles it), the signature signed in one pass (and the slow way
when it does not fit), the TSA client kept per process (never across a fork)."""
from __future__ import annotations

import datetime as dt
import os
import signal
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto.parser import parse
from pyhanko.pdf_utils.reader import PdfFileReader
from rq import Queue
from rq.job import JobStatus

from pdf import ltv, signing
from pdf.queue import KeptHorseWorker
from pdf.render import RenderInput, render_report
from pdf.verify import verify_pdf
from tests.jobs_support import redis_url  # noqa: F401  (fixture)
from tests.test_signed_archive import pki  # noqa: F401  (fixture)


def horse_pid() -> int:
    """A job: the pid of the process that runs it."""
    return os.getpid()


def kill_own_horse() -> None:
    """A job whose horse dies under it (kill -9, as the OOM killer would)."""
    os.kill(os.getpid(), signal.SIGKILL)


def _queue(url: str) -> Queue:
    from redis import Redis

    connection = Redis.from_url(url)
    connection.flushdb()
    return Queue("kept-horse-test", connection=connection)


def test_one_horse_runs_the_jobs_and_a_killed_one_is_replaced(redis_url):
    queue = _queue(redis_url)
    first = [queue.enqueue(horse_pid) for _ in range(3)]
    killed = queue.enqueue(kill_own_horse)
    after = [queue.enqueue(horse_pid) for _ in range(2)]

    KeptHorseWorker([queue], connection=queue.connection).work(burst=True)

    pids = [job.latest_result().return_value for job in first]
    assert len(set(pids)) == 1 and pids[0] != os.getpid()  # one horse, not this process
    killed.refresh()
    assert killed.get_status() == JobStatus.FAILED
    assert "Work-horse terminated unexpectedly" in killed.latest_result().exc_string
    later = [job.latest_result().return_value for job in after]
    assert len(set(later)) == 1 and later[0] not in (pids[0], os.getpid())  # a fresh horse
    assert not Path(f"/proc/{later[0]}").exists() or _zombie(later[0])  # retired with the worker


def test_a_horse_retires_after_its_jobs(redis_url, monkeypatch):
    monkeypatch.setattr(KeptHorseWorker, "horse_jobs", 2)
    queue = _queue(redis_url)
    jobs = [queue.enqueue(horse_pid) for _ in range(5)]

    KeptHorseWorker([queue], connection=queue.connection).work(burst=True)

    pids = [job.latest_result().return_value for job in jobs]
    assert all(job.get_status() == JobStatus.FINISHED for job in jobs)
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def _rendered():
    return render_report(RenderInput(
        title="青山镇2026年度工作计划", outline={"preamble": ["为做好本年度工作，现将计划报告如下。"], "sections": [],
                                       "closing": []},
        issuer="示范区", town="青山镇", date=dt.date(2026, 1, 5), archive_no="示范区〔2026〕3号",
        doc_number="示范区〔2026〕3号", report_id=12))


@pytest.mark.parametrize("lta", [False, True], ids=["B-B", "B-LTA"])
def test_the_signature_takes_its_fixed_room_and_verifies(pki, lta):
    rendered = _rendered()
    signer = signing.load_signer(pki.p12, None)
    extra = dict(timestamper=ltv.timestamper(pki.config), validation_context=ltv.embedding_context(pki.config)) \
        if lta else {}
    data = signing.sign_pdf(rendered.data, signer, seal_box=rendered.seal_box, reason="批准发布",
                            signer_name="示范区", **extra)

    signature = PdfFileReader(BytesIO(data)).embedded_regular_signatures[0]
    reserved = signing.signature_bytes_reserved(signer, timestamped=lta)
    assert len(signature.sig_object["/Contents"]) * 2 == reserved  # one pass, at the fixed size
    _, _, _, header, contents, _ = parse(signature.pkcs7_content)  # the CMS without its zero padding
    assert 2 * (len(header) + len(contents)) < reserved
    assert verify_pdf(data, [pki.ca_cert]).status == "valid"


def test_a_signature_too_big_for_its_room_is_signed_the_slow_way(pki, monkeypatch):
    monkeypatch.setattr(signing, "signature_bytes_reserved", lambda signer, timestamped: 1024)
    rendered = _rendered()
    data = signing.sign_pdf(rendered.data, signing.load_signer(pki.p12, None), seal_box=rendered.seal_box,
                            reason="批准发布", signer_name="示范区")

    signature = PdfFileReader(BytesIO(data)).embedded_regular_signatures[0]
    assert len(signature.sig_object["/Contents"]) * 2 > 1024  # sized by pyHanko's dry run
    assert verify_pdf(data, [pki.ca_cert]).status == "valid"


def test_the_tsa_client_is_kept_per_process_and_its_token_crosses_a_fork(pki):
    url = pki.config["TSA_URL"]
    assert signing.warm_timestamper(url)
    client = signing.http_timestamper(url)
    assert signing.http_timestamper(url) is client and client._dummy_response_cache
    assert signing._loop_of_this_process() is None  # warming left no loop thread to fork

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked horse: a client of its own, with the parent's dummy token
        try:
            child = signing.http_timestamper(url)
            ok = child is not client and child.pid == os.getpid() and bool(child._dummy_response_cache)
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
