"""The outbox's subscribers: notifications (in-app, e-mail, group channels) and the
publication job. Registered by ``notify.init_app``; the domain knows neither."""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from workflow import events as ev
from workflow import notifications
from workflow.db import db
from workflow.events import OutboxEvent
from workflow.models import User
from workflow.notifications import Channel
from workflow.outbox import AT_MOST_ONCE, IDEMPOTENT, TRANSACTIONAL, Delivery, Target

from . import messages, senders

INAPP, EMAIL = "inapp", "email"


class Notifications:
    """In-app notifications for every recipient, e-mail for those who want it, and a post
    on the group channels of the units concerned."""

    name = "notifications"

    def __init__(self) -> None:
        self._rendered: dict[tuple, messages.Message] = {}

    def targets(self, event: OutboxEvent) -> Iterable[Target]:
        users = notifications.recipients(event)
        targets = [Target(INAPP, user_id=u.id) for u in users]
        if senders.email_configured(current_app.config):
            targets += [Target(EMAIL, user_id=u.id) for u in users if u.email and u.email_notifications]
        targets += [Target(c.kind, channel_id=c.id) for c in notifications.channels_for(event)]
        return targets

    def mode(self, channel: str) -> str:
        return TRANSACTIONAL if channel == INAPP else AT_MOST_ONCE

    def message(self, event: OutboxEvent) -> messages.Message:
        """Rendered once per event and process (an event to 1,500 towns renders once)."""
        key = (current_app.config.get("SQLALCHEMY_DATABASE_URI"), event.id, event.created_at)
        found = self._rendered.get(key)
        if found is None:
            if len(self._rendered) > 1000:
                self._rendered.clear()
            found = self._rendered[key] = messages.render(event)
        return found

    def send(self, delivery: Delivery, event: OutboxEvent) -> None:
        message = self.message(event)
        config = current_app.config
        timeout = float(config.get("NOTIFY_TIMEOUT") or 10)
        if delivery.channel == INAPP:
            if delivery.user_id is None:  # the user was removed after the delivery was planned
                raise senders.Permanent("the user no longer exists")
            notifications.add(user_id=delivery.user_id, delivery_id=delivery.id, event=event, title=message.title,
                              body=message.body, url=message.url)
            return
        if delivery.channel == EMAIL:
            user = db.session.get(User, delivery.user_id) if delivery.user_id else None
            if user is None or not user.email:
                raise senders.Permanent("the user has no e-mail address any more")
            with force_locale(messages.LOCALE):
                footer = _("Open it in Chengbao: %(url)s", url=message.absolute_url())
            senders.send_email(config, to=user.email, subject=message.title,
                               body=f"{message.body}\n\n{footer}\n", message_id=delivery.key)
            return
        channel = db.session.get(Channel, delivery.channel_id) if delivery.channel_id else None
        if channel is None or channel.deleted_at is not None:
            raise senders.Permanent("the channel was deleted")
        with force_locale(messages.LOCALE):
            open_label = _("Open in Chengbao")
        url = message.absolute_url()
        inward = bool(config.get("NOTIFY_ALLOW_INTERNAL_URLS"))
        if channel.kind == "wecom":
            senders.post_wecom(channel.url, senders.wecom_message(message.title, message.body, url, open_label),
                               timeout=timeout, allow_internal=inward)
        elif channel.kind == "dingtalk":
            senders.post_dingtalk(channel.url, channel.secret,
                                  senders.dingtalk_message(message.title, message.body, url, open_label),
                                  timeout=timeout, allow_internal=inward)
        else:
            senders.post_webhook(channel.url, channel.secret,
                                 {**message.as_json(event), "org_unit_id": channel.org_unit_id},
                                 key=delivery.key, timeout=timeout, allow_internal=inward)


class Publication:
    """An approval that publishes hands its publication to the signed-PDF job."""

    name = "publication"

    def targets(self, event: OutboxEvent) -> Iterable[Target]:
        if event.kind == ev.REPORT_PUBLISHED and (event.payload or {}).get("publication_id"):
            return [Target("publication")]
        return []

    def mode(self, channel: str) -> str:
        return IDEMPOTENT  # one RQ job per approved version, whatever the repeats

    def send(self, delivery: Delivery, event: OutboxEvent) -> None:
        from pdf.jobs import enqueue_publication

        enqueue_publication(int(event.payload["publication_id"]))
