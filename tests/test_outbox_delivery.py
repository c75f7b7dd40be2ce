"""The outbox delivered by a real RQ worker on a real Redis to real receivers: an SMTP server,
and an HTTP server playing 企业微信, 钉钉 (its signature checked) and a webhook. A worker
killed mid-delivery, Redis down at commit or restarted, retries: nothing lost, nothing twice."""
from __future__ import annotations

import datetime as dt
import json
from email.header import decode_header, make_header

import pytest
from sqlalchemy import func, select, update

from notify.dispatch import events_queue
from pdf.queue import get_redis
from run import descendants
from tests.helpers import Api, act, gen_report, get_user
from tests.jobs_support import jobs_app, kill_group, redis_url, run_worker, wait_for, worker_process  # noqa: F401
from tests.notify_support import DINGTALK_SECRET, receiver, smtp_server  # noqa: F401
from workflow import notifications, outbox
from workflow.db import db
from workflow.events import OutboxEvent
from workflow.models import User
from workflow.notifications import Channel, Notification
from workflow.outbox import Delivery

pytestmark = pytest.mark.jobs


def add_channel(unit: int, kind: str, url: str, secret: str | None = None) -> int:
    channel = Channel(org_unit_id=unit, kind=kind, url=url, secret=secret)
    db.session.add(channel)
    db.session.commit()
    return channel.id


def statuses(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())


def submit(app, town: str = "qs") -> int:
    with app.app_context():
        report_id = gen_report(town).id
        act(report_id, f"{town}_author", "submit")
        return report_id


def test_an_event_reaches_in_app_email_wecom_dingtalk_and_a_webhook_once(jobs_app, world, smtp_server, receiver):
    app = jobs_app
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, MAIL_FROM="chengbao@district.example",
                      PUBLIC_BASE_URL="https://chengbao.example")
    with app.app_context():
        reviewer = get_user("qs_reviewer")
        reviewer.email = "qs_reviewer@town.example"
        get_user("qs_author").email = "qs_author@town.example"  # the actor: gets no e-mail of their own act
        db.session.commit()
        add_channel(world["qs"], "wecom", receiver.url("/wecom/send?key=k1"))
        add_channel(world["district"], "dingtalk", receiver.url("/dingtalk/robot/send?access_token=t"), DINGTALK_SECRET)
        add_channel(world["qs"], "webhook", receiver.url("/hook"), "hook-secret")
        add_channel(world["lh"], "webhook", receiver.url("/elsewhere"))  # another district's town: not concerned
    report_id = submit(app)
    assert events_queue(app).count == 1 and receiver.posts == [] and smtp_server.messages == []

    assert run_worker(app)

    # In-app: the town reviewer, in Chinese.
    with app.app_context():
        rows = db.session.execute(select(User.username, Notification.title)
                                  .join(User, User.id == Notification.user_id)).all()
    assert rows == [("qs_reviewer", "青山镇报送了《青山镇2027年度工作计划》，请审核")]
    # E-mail through the SMTP server: to the reviewer only, subject in Chinese, with the link.
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["qs_reviewer@town.example"]
    assert str(make_header(decode_header(message["Subject"]))) == "青山镇报送了《青山镇2027年度工作计划》，请审核"
    assert message["From"] == "chengbao@district.example"
    assert f"https://chengbao.example/reports/{report_id}" in message.get_content()
    # 企业微信: markdown content.
    (wecom,) = receiver.on("/wecom")
    assert wecom.query == {"key": ["k1"]} and wecom.body["msgtype"] == "markdown"
    assert "青山镇报送了《青山镇2027年度工作计划》，请审核" in wecom.body["markdown"]["content"]
    assert f"(https://chengbao.example/reports/{report_id})" in wecom.body["markdown"]["content"]
    # 钉钉: markdown with a title, signed with timestamp + HMAC-SHA256 (checked by the receiver).
    (ding,) = receiver.on("/dingtalk")
    assert ding.signature_ok is True and ding.query["access_token"] == ["t"]
    assert ding.body["msgtype"] == "markdown" and set(ding.body["markdown"]) == {"title", "text"}
    assert ding.body["markdown"]["title"] == "青山镇报送了《青山镇2027年度工作计划》，请审核"
    # The webhook: the notification JSON plus org_unit_id, keyed and signed.
    (hook,) = receiver.on("/hook")
    assert set(hook.body) == {"id", "event", "title", "body", "url", "report_id", "cycle_id", "created_at", "read_at",
                              "org_unit_id"}
    assert (hook.body["event"], hook.body["report_id"], hook.body["org_unit_id"]) == ("report_submitted", report_id,
                                                                                     world["qs"])
    assert hook.body["url"] == f"https://chengbao.example/reports/{report_id}"
    assert hook.headers["X-Chengbao-Delivery"].startswith("e1:notifications:webhook:c")
    import hashlib
    import hmac
    raw = json.dumps(hook.body, ensure_ascii=False).encode()
    assert hook.headers["X-Chengbao-Signature"] == "sha256=" + hmac.new(b"hook-secret", raw, hashlib.sha256).hexdigest()
    assert receiver.on("/elsewhere") == []
    assert statuses(app) == {"sent": 5}

    # Running the worker and the sweeper again sends nothing twice.
    with app.app_context():
        from notify.dispatch import sweep

        assert sweep()["outbox"]["dispatch_queued"] is None  # nothing waits
        events_queue(app).enqueue("notify.dispatch.run_dispatch")
    run_worker(app)
    assert len(receiver.posts) == 3 and len(smtp_server.messages) == 1 and statuses(app) == {"sent": 5}


def test_a_wrong_dingtalk_secret_is_refused_and_retried_then_failed(jobs_app, world, receiver):
    app = jobs_app
    app.config.update(NOTIFY_RETRY_INTERVALS=[0, 0])
    with app.app_context():
        add_channel(world["qs"], "dingtalk", receiver.url("/dingtalk/send?access_token=t"), "not-the-secret")
    submit(app)
    run_worker(app)
    assert [p.signature_ok for p in receiver.posts] == [False, False, False]  # 3 attempts, each refused
    with app.app_context():
        failed = db.session.scalar(select(Delivery).where(Delivery.channel == "dingtalk"))
        assert (failed.status, failed.attempts) == ("failed", 3) and "310000" in failed.last_error


def test_an_admin_sees_a_failed_delivery_and_retries_it(jobs_app, world, receiver):
    app = jobs_app
    app.config.update(NOTIFY_RETRY_INTERVALS=[0])
    receiver.status = 503
    with app.app_context():
        add_channel(world["qs"], "webhook", receiver.url("/hook"))
    submit(app)
    run_worker(app)
    assert len(receiver.posts) == 2 and statuses(app) == {"sent": 1, "failed": 1}

    client = app.test_client()
    district_admin = Api(client, "admin")
    failed = district_admin.get("/deliveries?status=failed").get_json()["items"]
    assert len(failed) == 1 and failed[0]["channel"] == "webhook" and failed[0]["attempts"] == 2
    assert "HTTP 503" in failed[0]["last_error"] and failed[0]["org_unit"] == "青山镇"
    assert Api(client, "district_reviewer").post(f"/deliveries/{failed[0]['id']}/retry").status_code == 403
    with app.app_context():
        from workflow import admin

        stranger = admin.create_user(None, username="dh_admin", display_name="东湖", password="test-password-1")
        admin.grant_position(None, user_id=stranger.id, org_unit_id=world["other_district"], role="admin")
    other = Api(client, "dh_admin")
    assert other.get("/deliveries").get_json()["items"] == []
    assert other.post(f"/deliveries/{failed[0]['id']}/retry").status_code == 404

    receiver.status = 200
    retried = district_admin.post(f"/deliveries/{failed[0]['id']}/retry")
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    assert district_admin.post(f"/deliveries/{failed[0]['id']}/retry").status_code == 409  # not failed any more
    run_worker(app)
    assert len(receiver.posts) == 3 and statuses(app) == {"sent": 2}
    with app.app_context():
        audit = db.session.scalar(select(notifications.AdminAudit)
                                  .where(notifications.AdminAudit.action == "delivery_retried"))
        assert audit.actor.username == "admin" and audit.target == f"delivery:{failed[0]['id']}"

    # The page shows the same, and its retry button needs the CSRF token.
    from tests.helpers import get_html, login

    browser = app.test_client()
    login(browser, "admin")
    page = get_html(browser, "/admin/deliveries")
    assert "投递记录" in page and "已发送" in page and "青山镇" in page
    assert "发送失败" in page and "生成失败" not in page  # the filter: a delivery failed, not a PDF
    assert f"青山镇 #{failed[0]['channel_id']}" in page and "webhook #" not in page  # the group channel by its unit


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(jobs_app, world, receiver):
    """The receiver answers its first request only after a long while; the worker is killed
    with SIGKILL while it waits. The deliveries not yet sent are sent by the next worker;
    the one in flight, whose outcome is unknown, is never resent by itself (at most once:
    see workflow/outbox.py) and shows as failed for the admin."""
    app = jobs_app
    receiver.slow_first = 120
    with app.app_context():
        for path in ("/hook/a", "/hook/b"):
            add_channel(world["qs"], "webhook", receiver.url(path))
        add_channel(world["district"], "webhook", receiver.url("/hook/c"))
    submit(app)
    proc = worker_process(app)
    try:
        wait_for(lambda: len(receiver.posts) == 1, timeout=60)
        below = descendants(proc.pid)
    finally:
        kill_group(proc)
    wait_for(lambda: all(not _alive(pid) for pid in below), timeout=10, interval=0.05)
    receiver.release.set()  # the slow answer now goes to a dead socket
    in_flight = receiver.posts[0].headers["X-Chengbao-Delivery"]
    assert statuses(app) == {"sent": 1, "sending": 1, "pending": 2}  # in-app done; one in flight; two waiting

    # The sweeper (cron, the worker's start, make run) finds the waiting deliveries.
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0 and '"dispatch_queued": true' in result.output
    run_worker(app)
    keys = [p.headers["X-Chengbao-Delivery"] for p in receiver.posts]
    assert len(keys) == 3 and len(set(keys)) == 3  # each channel once
    assert statuses(app) == {"sent": 3, "sending": 1}

    # Once the lease has run out the sweeper closes the unknown one: failed, not resent.
    with app.app_context():
        db.session.execute(update(Delivery).where(Delivery.key == in_flight)
                           .values(lease_until=dt.datetime(2000, 1, 1)))
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["sweep"]).exit_code == 0
    run_worker(app)
    assert len(receiver.posts) == 3
    with app.app_context():
        unknown = db.session.scalar(select(Delivery).where(Delivery.key == in_flight))
        assert unknown.status == "failed" and unknown.last_error == outbox.OUTCOME_UNKNOWN
        # In-app notifications: exactly one per recipient.
        assert db.session.scalar(select(func.count(Notification.id))) == 1


def _alive(pid: int) -> bool:
    from pathlib import Path

    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_redis_down_at_commit_then_the_sweeper_delivers(app, world, redis_url, receiver, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    app.config["REDIS_URL"] = None
    with app.app_context():
        add_channel(world["qs"], "webhook", receiver.url("/hook"))
    report_id = submit(app)  # the submit stands without Redis
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.dispatched_at.is_(None))) == 1
    unavailable = app.test_cli_runner().invoke(args=["sweep"])
    assert unavailable.exit_code == 1 and "no Redis reachable" in unavailable.output

    app.config.update(REDIS_URL=redis_url)
    get_redis(app).flushdb()
    swept = app.test_cli_runner().invoke(args=["sweep"])
    assert swept.exit_code == 0 and '"waiting_events": 1' in swept.output
    run_worker(app)
    assert len(receiver.posts) == 1 and receiver.posts[0].body["report_id"] == report_id
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 1

    # A Redis restart loses the queued job of the next event: the sweeper again.
    with app.app_context():
        act(report_id, "qs_reviewer", "approve")
    assert events_queue(app).count == 1
    get_redis(app).flushdb()
    assert app.test_cli_runner().invoke(args=["sweep"]).exit_code == 0
    run_worker(app)
    assert [p.body["event"] for p in receiver.posts] == ["report_submitted", "report_approved"]
    get_redis(app).flushdb()


def test_nothing_is_posted_to_an_internal_address_unless_allowed(receiver):
    """Checked on the connected socket: a name that resolves to loopback is caught as well."""
    from notify import senders

    for url in (receiver.url("/hook"), receiver.url("/hook").replace("127.0.0.1", "localhost")):
        with pytest.raises(senders.Permanent, match="internal address"):
            senders.post_webhook(url, None, {"event": "reminder"}, key="k", timeout=5)
    assert receiver.posts == []
    senders.post_webhook(receiver.url("/hook"), None, {"event": "reminder"}, key="k", timeout=5, allow_internal=True)
    assert len(receiver.posts) == 1
