"""Webhook subscriptions per campaign and their outbox of deliveries (survey_app/webhooks).

References are strings (like sampling_tables.py) so this module never imports tables.py, which imports it.
"""

from piccolo.columns import Boolean, DoublePrecision, ForeignKey, Integer, Text, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class WebhookSubscription(Table, tablename="webhook_subscription"):
    """A receiver of a campaign's events. `events` is a comma list framed by commas (",response.stored,") so one
    SQL test (instr/strpos) finds a subscriber of an event on both engines."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, on_delete=OnDelete.cascade)
    url = Varchar(length=2000)
    secret = Varchar(length=120, help_text="whsec_ + base64 key; signs every delivery (Standard Webhooks)")
    events = Varchar(length=200)
    active = Boolean(default=True)
    created_by = Varchar(length=64, default="")
    created_at = DoublePrecision(default=0.0)


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """The outbox: one row per event and subscriber, written in the event's own transaction, sent by the job
    worker until the receiver answers 2xx (or attempts run out). The same event id on every attempt."""

    event_id = Varchar(length=64)
    subscription = ForeignKey("survey_app.core.webhook_tables.WebhookSubscription", null=False, on_delete=OnDelete.cascade)
    event_type = Varchar(length=32)
    subject = Varchar(length=64, help_text="the response id or the campaign code the event is about")
    payload = Text(null=True, default=None, help_text="the JSON body, fixed at the first attempt")
    status = Varchar(length=12, default="pending", help_text="pending, delivered or failed")
    attempts = Integer(default=0)
    last_status = Integer(null=True, default=None)
    last_error = Text(default="")
    next_attempt_at = DoublePrecision(default=0.0)  # time.time()
    locked_until = DoublePrecision(default=0.0)  # a worker sending it holds it until then (a crash lets it go)
    created_at = DoublePrecision(default=0.0)
    delivered_at = DoublePrecision(null=True, default=None)


WEBHOOK_TABLES = (WebhookSubscription, WebhookDelivery)
