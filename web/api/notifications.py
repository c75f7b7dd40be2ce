"""The API's notifications, group channels, deliveries and settings (CONTRACT.md), on the
``api`` blueprint. Scope and audit are ``workflow.notifications``'s."""
from __future__ import annotations

from flask import current_app, jsonify

from workflow import notifications

from . import notification_schemas as ns
from .base import api_user, bp, json_body, query_args

_notification = ns.NotificationSchema()
_channel = ns.ChannelSchema()
_delivery = ns.DeliverySchema()


def _notification_dict(n: notifications.Notification) -> dict:
    return _notification.dump({"id": n.id, "event": n.event, "title": n.title, "body": n.body, "url": n.url,
                               "report_id": n.report_id, "cycle_id": n.cycle_id, "created_at": n.created_at,
                               "read_at": n.read_at})


def _channel_dict(c: notifications.Channel) -> dict:
    return _channel.dump({"id": c.id, "org_unit_id": c.org_unit_id, "kind": c.kind, "url": c.url,
                          "has_secret": bool(c.secret), "events": c.events, "created_at": c.created_at})


def _delivery_dict(row: notifications.DeliveryRow) -> dict:
    d, e = row.delivery, row.event
    return _delivery.dump({"id": d.id, "event_id": e.id, "event": e.kind, "report_id": e.report_id,
                           "cycle_id": e.cycle_id, "org_unit": row.unit_name, "channel": d.channel,
                           "user_id": d.user_id, "channel_id": d.channel_id, "recipient": row.recipient, "key": d.key,
                           "status": d.status, "attempts": d.attempts, "last_error": d.last_error,
                           "created_at": d.created_at, "sent_at": d.sent_at})


@bp.get("/notifications")
def list_notifications():
    """The caller's notifications, newest first.
    ---
    get:
      tags: [notifications]
      summary: My notifications
      parameters:
        - in: query
          schema: NotificationQuerySchema
      responses:
        200:
          description: the notifications and the unread count
          content:
            application/json:
              schema: NotificationListSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    args = query_args(ns.NotificationQuerySchema())
    items = notifications.notifications_of(api_user(), unread=bool(args.get("unread")), limit=100)
    return jsonify({"items": [_notification_dict(n) for n in items], "unread": notifications.unread_count(api_user())})


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int):
    """Mark one of the caller's notifications read.
    ---
    post:
      tags: [notifications]
      summary: Mark a notification read
      responses:
        200:
          description: the notification
          content:
            application/json:
              schema: NotificationSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify(_notification_dict(notifications.mark_read(api_user(), notification_id)))


@bp.post("/notifications/read-all")
def read_all_notifications():
    """Mark every notification of the caller read.
    ---
    post:
      tags: [notifications]
      summary: Mark all read
      responses:
        200:
          description: how many were marked
          content:
            application/json:
              schema: ReadAllSchema
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    marked = notifications.mark_all_read(api_user())
    return jsonify({"marked": marked, "unread": 0})


@bp.get("/me/settings")
def my_settings():
    """The caller's notification settings.
    ---
    get:
      tags: [notifications]
      summary: My notification settings
      description: In-app notifications are always on; e-mail ones go to `email` when `email_notifications`.
      responses:
        200:
          description: the settings
          content:
            application/json:
              schema: SettingsSchema
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    user = api_user()
    return jsonify({"email": user.email, "email_notifications": user.email_notifications})


@bp.put("/me/settings")
def update_my_settings():
    """Change the caller's e-mail address or e-mail choice.
    ---
    put:
      tags: [notifications]
      summary: Change my notification settings
      requestBody:
        required: true
        content:
          application/json:
            schema: SettingsRequestSchema
      responses:
        200:
          description: the settings
          content:
            application/json:
              schema: SettingsSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    body = json_body(ns.SettingsRequestSchema())
    user = notifications.update_settings(api_user(), email=body.get("email", ...),
                                         email_notifications=body.get("email_notifications", ...))
    return jsonify({"email": user.email, "email_notifications": user.email_notifications})


@bp.get("/org-units/<int:org_unit_id>/channels")
def list_channels(org_unit_id: int):
    """The group channels of an org unit (its admins only).
    ---
    get:
      tags: [notifications]
      summary: An org unit's channels
      responses:
        200:
          description: the channels (secrets are never returned)
          content:
            application/json:
              schema:
                type: array
                items: ChannelSchema
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    return jsonify([_channel_dict(c) for c in notifications.channels_of(api_user(), org_unit_id)])


@bp.post("/org-units/<int:org_unit_id>/channels")
def add_channel(org_unit_id: int):
    """Add a 企业微信 or 钉钉 group robot or a JSON webhook to an org unit (audited).
    ---
    post:
      tags: [notifications]
      summary: Add a channel
      description: >
        `wecom` and `dingtalk` receive those robots' markdown messages (钉钉 signed with
        `timestamp` and `sign` when a secret is given); `webhook` receives the notification JSON
        plus `org_unit_id`, with the delivery's key in `X-Chengbao-Delivery`.
      requestBody:
        required: true
        content:
          application/json:
            schema: ChannelRequestSchema
      responses:
        201:
          description: the channel
          content:
            application/json:
              schema: ChannelSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    body = json_body(ns.ChannelRequestSchema())
    channel = notifications.add_channel(api_user(), org_unit_id, **body,
                                        allow_internal=current_app.config["NOTIFY_ALLOW_INTERNAL_URLS"])
    return jsonify(_channel_dict(channel)), 201


@bp.delete("/org-units/<int:org_unit_id>/channels/<int:channel_id>")
def delete_channel(org_unit_id: int, channel_id: int):
    """Remove a channel (audited; its past deliveries stay listed).
    ---
    delete:
      tags: [notifications]
      summary: Remove a channel
      responses:
        204: {description: removed}
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
    """
    notifications.delete_channel(api_user(), org_unit_id, channel_id)
    return "", 204


@bp.get("/deliveries")
def list_deliveries():
    """Deliveries of the events in the units the caller administers, newest first.
    ---
    get:
      tags: [notifications]
      summary: Delivery state (admins)
      parameters:
        - in: query
          schema: DeliveryQuerySchema
      responses:
        200:
          description: one page of deliveries
          content:
            application/json:
              schema: DeliveryListSchema
        400: {$ref: '#/components/responses/BadRequest'}
        401: {$ref: '#/components/responses/Unauthorized'}
    """
    args = query_args(ns.DeliveryQuerySchema())
    rows = notifications.deliveries_for(api_user(), status=args.get("status"), before_id=args.get("before_id"))
    return jsonify({"items": [_delivery_dict(r) for r in rows]})


@bp.post("/deliveries/<int:delivery_id>/retry")
def retry_delivery(delivery_id: int):
    """Try a failed delivery again (admins of its unit; audited).
    ---
    post:
      tags: [notifications]
      summary: Retry a failed delivery
      responses:
        200:
          description: the delivery, pending again
          content:
            application/json:
              schema: DeliverySchema
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
    """
    from notify.dispatch import request_dispatch

    notifications.retry_delivery(api_user(), delivery_id)
    request_dispatch()
    row = next(r for r in notifications.deliveries_for(api_user(), before_id=delivery_id + 1, limit=1))
    return jsonify(_delivery_dict(row))
