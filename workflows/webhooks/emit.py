"""`webhook_event_emit`: one delivery per active endpoint subscribed to the event, per payload.

Called inside the transaction that caused the event, so the deliveries commit with it (or not
at all). The hot path (earning points through the API) must stay cheap: which event types
anyone subscribes to is cached in the process for a few seconds and dropped when an endpoint
is saved or deleted here; only a cached "yes" costs a query (the endpoints themselves, read
fresh, so a stale cache never writes to an endpoint that is gone). A new endpoint saved in
another process receives events at the latest after `WORKFLOWS_WEBHOOK_SUBSCRIPTION_CACHE_SECONDS`.
"""

import time
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from workflows.models import WebhookDelivery, WebhookEndpoint
from workflows.models.webhooks import EventType
from workflows.webhooks import config

_cache: dict[str, Any] = {"types": None, "at": 0.0}


def subscriptions_forget(*args: Any, **kwargs: Any) -> None:
    """Drop the cache now, and again when the endpoint's transaction commits (a concurrent
    request may have filled it in between with what was committed before)."""
    _cache["types"] = None
    transaction.on_commit(_forget_now)


def _forget_now() -> None:
    _cache["types"] = None


post_save.connect(subscriptions_forget, sender=WebhookEndpoint, dispatch_uid="webhook_subs_save")
post_delete.connect(subscriptions_forget, sender=WebhookEndpoint, dispatch_uid="webhook_subs_del")


def _subscribed_types() -> set[str]:
    now = time.monotonic()
    types = _cache["types"]
    if types is None or now - _cache["at"] > config.subscription_cache_seconds():
        types = set()
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        ):
            types.update(events or [])
        _cache["types"], _cache["at"] = types, now
    return types


def anyone_subscribed(event_type: str) -> bool:
    """Cached: no query at all while nobody subscribes to anything (and the cache is warm)."""
    return event_type in _subscribed_types()


def webhook_event_emit(*, event_type: str, payloads: Iterable[dict[str, Any]]) -> int:
    """Deliveries for each payload to each subscribed endpoint, in bulk; their number.

    Each payload is one event: its event id (UUID) is the same for every endpoint and every
    attempt, so a receiver deduplicates on it. Two queries when someone subscribes, else none.
    """
    if event_type not in EventType.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    if not anyone_subscribed(event_type):
        return 0
    endpoint_ids = [
        endpoint_id
        for endpoint_id, events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "pk", "events"
        )
        if event_type in (events or [])
    ]
    if not endpoint_ids:
        return 0
    rows: list[WebhookDelivery] = []
    for payload in payloads:
        event_id = uuid.uuid4()
        body = {"id": str(event_id), "type": event_type, "data": payload}
        rows.extend(
            WebhookDelivery(
                endpoint_id=endpoint_id, event_type=event_type, event_id=event_id, payload=body
            )
            for endpoint_id in endpoint_ids
        )
    WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
