"""Who hears of what: recipients computed from the workflow table and the positions, never
the actor; in-app notifications with the bell, the list and mark read, in the UI and the API;
group channels scoped to the admins of their units; the e-mail settings."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.helpers import PASSWORD, Api, act, gen_report, get_html, get_user, login, post_form
from workflow import admin, events, outbox, services
from workflow.db import db
from workflow.errors import Conflict
from workflow.events import OutboxEvent
from workflow.models import OrgUnit, Position, User
from workflow.notifications import AdminAudit, Channel, Notification


def deliver() -> outbox.DispatchResult:
    """Run the outbox in this process (the worker's job does the same)."""
    return outbox.dispatch(outbox.Settings(retry_intervals=(0,)))


def notified(kind: str) -> dict[str, list[Notification]]:
    rows = db.session.execute(select(User.username, Notification).join(Notification, Notification.user_id == User.id)
                              .where(Notification.event == kind).order_by(Notification.id)).all()
    found: dict[str, list[Notification]] = {}
    for username, n in rows:
        found.setdefault(username, []).append(n)
    return found


def unit_id(name: str) -> int:
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))


# ---------------------------------------------------------------- recipients per event


def test_each_transition_reaches_whoever_must_act_next_and_never_the_actor(ctx, world):
    report = gen_report("qs")
    act(report.id, "qs_author", "submit")
    deliver()
    submitted = notified(events.REPORT_SUBMITTED)
    assert set(submitted) == {"qs_reviewer"}  # the town's reviewer; not the district, not 溪口镇
    n = submitted["qs_reviewer"][0]
    assert n.title == "青山镇报送了《青山镇2027年度工作计划》，请审核" and n.url == f"/reports/{report.id}"
    assert n.report_id == report.id and n.read_at is None

    act(report.id, "qs_reviewer", "return", "第二部分缺少投资数据")
    deliver()
    returned = notified(events.REPORT_RETURNED)
    # The town's authors (both) and the submitter (one of them); never the reviewer who returned it.
    assert set(returned) == {"qs_author", "qs_author2"}
    assert all(len(v) == 1 for v in returned.values())
    assert "第二部分缺少投资数据" in returned["qs_author"][0].body and "退回" in returned["qs_author"][0].title

    act(report.id, "qs_author2", "submit")
    act(report.id, "qs_reviewer", "approve")
    deliver()
    assert set(notified(events.REPORT_APPROVED)) == {"district_reviewer"}  # not other_reviewer of 东湖区

    act(report.id, "district_reviewer", "approve")
    deliver()
    assert set(notified(events.REPORT_PUBLISHED)) == {"qs_author", "qs_author2", "qs_reviewer"}

    # The actor of an event never hears of it.
    for event in db.session.scalars(select(OutboxEvent)):
        got = db.session.scalars(select(Notification.user_id).where(Notification.report_id == report.id,
                                                                    Notification.event == event.kind)).all()
        assert event.actor_id not in got, event.kind
    # And the publication was handed to its subscriber (a delivery of its own).
    kinds = {(d.subscriber, d.channel) for d in db.session.scalars(select(outbox.Delivery))}
    assert ("publication", "publication") in kinds


def test_a_return_reaches_a_submitter_who_is_no_longer_a_town_author(ctx, world):
    report = gen_report("qs")
    act(report.id, "qs_author2", "submit")
    db.session.delete(db.session.scalar(select(Position).where(Position.user_id == world["qs_author2"])))
    db.session.commit()
    act(report.id, "qs_reviewer", "return", "请补充")
    deliver()
    assert set(notified(events.REPORT_RETURNED)) == {"qs_author", "qs_author2"}


def test_comments_reach_the_other_party(ctx, world):
    report = gen_report("qs")
    act(report.id, "qs_author", "submit")
    services.add_comment(get_user("qs_reviewer"), report.id, body="投资数据请核实")
    deliver()
    by_reviewer = notified(events.COMMENT_ADDED)
    assert set(by_reviewer) == {"qs_author", "qs_author2"}
    assert "投资数据请核实" in by_reviewer["qs_author"][0].body
    assert by_reviewer["qs_author"][0].url == f"/reports/{report.id}#comments"

    db.session.query(Notification).delete()
    db.session.commit()
    services.add_comment(get_user("qs_author"), report.id, body="已核实，数据无误")
    deliver()
    assert set(notified(events.COMMENT_ADDED)) == {"qs_reviewer"}  # not the author who wrote it


def test_cycle_events_reach_the_towns_authors_and_with_escalation_their_reviewers(ctx, world):
    qs, xk, district = unit_id("青山镇"), unit_id("溪口镇"), unit_id("示范区")
    events.emit(events.CYCLE_OPENED, cycle_id=7, org_unit_id=district, actor_id=world["district_reviewer"],
                org_unit_ids=[qs, xk], title="2027年度工作计划", due_date="2027-01-15", message="请按时报送")
    events.emit(events.REMINDER, cycle_id=7, org_unit_id=district, actor_id=world["district_reviewer"],
                org_unit_ids=[xk], escalate=True, title="2027年度工作计划", due_date="2027-01-15")
    db.session.commit()
    deliver()
    opened = notified(events.CYCLE_OPENED)
    assert set(opened) == {"qs_author", "qs_author2", "xk_author"}
    n = opened["xk_author"][0]
    assert n.title == "新报送任务：2027年度工作计划" and "2027-01-15" in n.body and "请按时报送" in n.body
    assert n.cycle_id == 7 and n.url == "/cycles/7" and n.report_id is None
    assert set(notified(events.REMINDER)) == {"xk_author", "xk_reviewer"}
    assert notified(events.REMINDER)["xk_reviewer"][0].title == "催办：请尽快报送《2027年度工作计划》"


def test_a_cycle_opened_tells_the_towns_its_notice(ctx, world):
    from tests.cycles_support import open_plan_cycle

    cycle = open_plan_cycle()
    deliver()
    n = notified(events.CYCLE_OPENED)["qs_author"][0]
    assert n.title == "新报送任务：2027年度工作计划"
    assert n.body == f"截止日期：{cycle.due_date.isoformat()}。 请各镇按时报送。"  # the notice, not the title again


def test_delivery_is_idempotent_however_often_it_runs(ctx, world):
    report = gen_report("qs")
    act(report.id, "qs_author", "submit")
    first = deliver()
    assert (first.planned_events, first.sent) == (1, 1)
    again = deliver()
    assert (again.planned_events, again.planned_deliveries, again.sent) == (0, 0, 0)
    # Even an event forced back to pending plans nothing twice: the key is unique.
    db.session.execute(db.update(OutboxEvent).values(dispatched_at=None))
    db.session.commit()
    assert deliver().sent == 0
    assert db.session.scalar(select(db.func.count(Notification.id))) == 1


def test_a_failed_change_writes_no_event(ctx, world):
    report = gen_report("qs")
    with pytest.raises(Conflict):
        services.perform(get_user("qs_reviewer"), report.id, "approve", version=report.version)
    with pytest.raises(Conflict):
        services.perform(get_user("qs_author"), report.id, "submit", version=report.version + 5)
    assert db.session.scalar(select(db.func.count(OutboxEvent.id))) == 0


# ---------------------------------------------------------------- the bell and the list (UI)


def bell_count(html: str) -> int:
    match = re.search(r'class="bell-count" data-unread="(\d+)"', html)
    return int(match.group(1)) if match else 0


def test_the_bell_counts_unread_and_opening_a_notification_marks_it_read(app, client, world):
    with app.app_context():
        report_id = gen_report("qs").id
        act(report_id, "qs_author", "submit")
        services.add_comment(get_user("qs_author"), report_id, body="请审核")
        deliver()
    login(client, "qs_reviewer")
    html = get_html(client, "/")
    assert bell_count(html) == 2 and 'href="/notifications"' in html
    page = get_html(client, "/notifications")
    assert "青山镇报送了《青山镇2027年度工作计划》，请审核" in page
    assert page.count('class="card notification unread"') == 2
    ids = re.findall(r'action="/notifications/(\d+)/read"', page)
    response = post_form(client, f"/notifications/{ids[0]}/read", {"open": "1"}, page="/notifications")
    assert response.status_code == 303 and response.headers["Location"].startswith(f"/reports/{report_id}")
    assert bell_count(get_html(client, "/")) == 1
    assert get_html(client, "/notifications?unread=1").count('class="card notification unread"') == 1
    response = post_form(client, "/notifications/read-all", {}, page="/notifications")
    assert response.headers["Location"] == "/notifications"
    assert bell_count(get_html(client, "/")) == 0
    # Without the CSRF token nothing is marked.
    assert client.post(f"/notifications/{ids[0]}/read").status_code == 400
    # Someone else's notification answers 404.
    other = app.test_client()
    login(other, "xk_reviewer")
    assert post_form(other, f"/notifications/{ids[0]}/read", {}, page="/notifications").status_code == 404


def test_the_list_is_english_on_request_and_escapes_titles(app, client, world):
    with app.app_context():
        report = gen_report("qs", title="<script>alert(1)</script>计划")
        act(report.id, "qs_author", "submit")
        deliver()
    login(client, "qs_reviewer")
    html = get_html(client, "/notifications")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "全部标为已读" in html
    post_form(client, "/locale", {"locale": "en"}, page="/notifications", headers={"Referer": "/notifications"})
    assert "Mark all read" in get_html(client, "/notifications")


def test_my_settings_keep_an_email_address_and_the_email_choice(app, client, world):
    login(client, "qs_author")
    page = get_html(client, "/settings")
    assert "站内通知" in page
    response = post_form(client, "/settings", {"email": "qs@example.org", "email_notifications": "y"}, page="/settings")
    assert response.status_code == 303
    with app.app_context():
        user = get_user("qs_author")
        assert (user.email, user.email_notifications) == ("qs@example.org", True)
    post_form(client, "/settings", {"email": "qs@example.org"}, page="/settings")  # box unticked
    with app.app_context():
        assert get_user("qs_author").email_notifications is False
    bad = post_form(client, "/settings", {"email": "not an address"}, page="/settings")
    assert bad.status_code == 200 and "不是有效的电子邮箱地址" in bad.get_data(as_text=True)


def test_an_admin_sets_an_email_address_of_a_user_in_scope_only(app, client, world):
    login(client, "admin")
    assert 'name="email"' in get_html(client, f"/admin/users/{world['qs_author']}")
    response = post_form(client, f"/admin/users/{world['qs_author']}/email", {"email": "a@example.org"},
                         page=f"/admin/users/{world['qs_author']}")
    assert response.headers["Location"] == f"/admin/users/{world['qs_author']}"
    assert post_form(client, f"/admin/users/{world['lh_author']}/email", {"email": "x@example.org"}).status_code == 404
    with app.app_context():
        assert get_user("qs_author").email == "a@example.org" and get_user("lh_author").email is None
        assert db.session.scalar(select(AdminAudit.action).where(AdminAudit.target == f"user:{world['qs_author']}",
                                                                 AdminAudit.actor_id.is_not(None))) \
            == "user_email_set"


# ---------------------------------------------------------------- the API


def test_the_api_lists_and_marks_notifications(app, client, world):
    with app.app_context():
        report_id = gen_report("qs").id
        act(report_id, "qs_author", "submit")
        act(report_id, "qs_reviewer", "return", "请补充")
        deliver()
    api = Api(client, "qs_author")
    listing = api.get("/notifications").get_json()
    assert listing["unread"] == 1 and len(listing["items"]) == 1
    item = listing["items"][0]
    assert set(item) == {"id", "event", "title", "body", "url", "report_id", "cycle_id", "created_at", "read_at"}
    assert item["event"] == "report_returned" and item["report_id"] == report_id and item["read_at"] is None
    assert item["created_at"].endswith("Z")
    read = api.post(f"/notifications/{item['id']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert api.get("/notifications?unread=true").get_json() == {"items": [], "unread": 0}
    assert len(api.get("/notifications").get_json()["items"]) == 1
    assert api.post("/notifications/read-all").get_json() == {"marked": 0, "unread": 0}
    other = Api(client, "qs_author2")
    assert other.post(f"/notifications/{item['id']}/read").status_code == 404
    assert api.get("/notifications?unread=maybe").status_code == 400
    settings = api.put("/me/settings", json={"email": "qs@example.org", "email_notifications": False})
    assert settings.get_json() == {"email": "qs@example.org", "email_notifications": False}
    assert api.put("/me/settings", json={"email": "nope"}).status_code == 400
    assert api.put("/me/settings", json={"email_notifications": "yes"}).status_code == 400


@pytest.fixture
def other_admin(app, world):
    with app.app_context():
        user = admin.create_user(None, username="dh_admin", display_name="东湖区管理员", password=PASSWORD)
        admin.grant_position(None, user_id=user.id, org_unit_id=world["other_district"], role="admin")
        return user.id


def test_channels_are_managed_by_the_admins_of_their_unit_only(app, client, world, other_admin):
    qs = world["qs"]
    district_admin, stranger, author = Api(client, "admin"), Api(client, "dh_admin"), Api(client, "qs_author")
    created = district_admin.post(f"/org-units/{qs}/channels",
                                  json={"kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=x",
                                        "secret": "SECabc"})
    assert created.status_code == 201, created.get_json()
    channel = created.get_json()
    assert channel["kind"] == "dingtalk" and channel["has_secret"] is True and "secret" not in channel
    assert district_admin.get(f"/org-units/{qs}/channels").get_json() == [channel]
    # An admin of another district: the unit does not exist for them.
    assert stranger.get(f"/org-units/{qs}/channels").status_code == 404
    assert stranger.post(f"/org-units/{qs}/channels",
                         json={"kind": "webhook", "url": "http://x.example"}).status_code == 404
    assert stranger.delete(f"/org-units/{qs}/channels/{channel['id']}").status_code == 404
    # Someone of the town who is not an admin: forbidden.
    assert author.get(f"/org-units/{qs}/channels").status_code == 403
    assert district_admin.post(f"/org-units/{qs}/channels", json={"kind": "sms", "url": "http://x"}).status_code == 400
    assert district_admin.post(f"/org-units/{qs}/channels",
                               json={"kind": "webhook", "url": "ftp://files.example/x"}).status_code == 400
    assert district_admin.delete(f"/org-units/{world['xk']}/channels/{channel['id']}").status_code == 404
    assert district_admin.delete(f"/org-units/{qs}/channels/{channel['id']}").status_code == 204
    assert district_admin.get(f"/org-units/{qs}/channels").get_json() == []
    with app.app_context():
        actions = db.session.scalars(select(AdminAudit.action).where(AdminAudit.actor_id.is_not(None))
                                     .order_by(AdminAudit.id)).all()
        assert actions == ["channel_added", "channel_deleted"]  # (the world's grants: the command line's)
        assert db.session.get(Channel, channel["id"]).deleted_at is not None  # kept for its deliveries


def test_the_channels_page_adds_and_removes_a_channel_and_scopes_the_delete(app, client, world, other_admin):
    login(client, "admin")
    page = get_html(client, "/admin/channels")
    assert "群通知通道" in page
    response = post_form(client, "/admin/channels", {"org_unit_id": world["qs"], "kind": "wecom",
                                                     "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
                         page="/admin/channels")
    assert response.headers["Location"] == "/admin/channels"
    page = get_html(client, "/admin/channels")
    assert "企业微信群机器人" in page and "qyapi.weixin.qq.com" in page
    with app.app_context():
        cid = db.session.scalar(select(Channel.id))
    stranger = app.test_client()
    login(stranger, "dh_admin")
    assert "qyapi" not in get_html(stranger, "/admin/channels")
    assert post_form(stranger, f"/admin/units/{world['qs']}/channels/{cid}/delete", {},
                     page="/admin/channels").status_code == 404
    removed = post_form(client, f"/admin/units/{world['qs']}/channels/{cid}/delete", {}, page="/admin/channels")
    assert removed.headers["Location"] == "/admin/channels"
    page = get_html(client, "/admin/channels")
    assert "qyapi" not in page
    changes = page.split("最近变更")[1]  # in words, not codes
    assert f"添加了通道 · 企业微信群机器人 #{cid}" in changes and f"删除了通道 · 企业微信群机器人 #{cid}" in changes
    assert "channel_added" not in changes and "channel:" not in changes
    reviewer = app.test_client()
    login(reviewer, "district_reviewer")
    assert reviewer.get("/admin/channels").status_code == 403


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/hook"])
def test_a_channel_at_an_internal_address_is_refused_unless_the_server_allows_it(app, client, world, url):
    app.config["NOTIFY_ALLOW_INTERNAL_URLS"] = False
    api = Api(client, "admin")
    r = api.post(f"/org-units/{world['qs']}/channels", json={"kind": "webhook", "url": url})
    assert r.status_code == 422 and r.get_json()["error"]["reason"] == "channel_url_internal"
    with app.app_context():
        assert db.session.scalar(select(Channel).where(Channel.url == url)) is None
    public = api.post(f"/org-units/{world['qs']}/channels",
                      json={"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"})
    assert public.status_code == 201
    app.config["NOTIFY_ALLOW_INTERNAL_URLS"] = True  # an intranet deployment
    assert api.post(f"/org-units/{world['qs']}/channels", json={"kind": "webhook", "url": url}).status_code == 201
