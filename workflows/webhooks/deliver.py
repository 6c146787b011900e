"""Posting due deliveries: claim, sign, POST, record; retry with backoff; give up after N.

A delivery is claimed with a guarded UPDATE (pending -> delivering, only if still pending), so
two workers never post the same attempt. The claim stamps `next_attempt_at` with the claim's
moment; a delivery still "delivering" long after that lost its worker (SIGKILL, a restart) and
goes back to pending: delivery is at least once, and the receiver deduplicates on the event id
(`X-Webhook-Id`), the same on every attempt.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from workflows.models import WebhookDelivery
from workflows.webhooks import config

State = WebhookDelivery.State


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "timestamp.body": the timestamp is signed too, so a
    receiver can refuse an old delivery replayed."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST and return the status code; an HTTP error status is returned, not raised."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("A webhook URL is http or https.")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def backoff(attempts: int) -> timedelta:
    """1 min x 2^(attempts-1), capped: 1, 2, 4, 8... minutes."""
    seconds = config.backoff_base_seconds() * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config.backoff_cap_seconds()))


@dataclass
class DeliveryResult:
    delivered: int = 0
    retried: int = 0
    gave_up: int = 0
    reclaimed: int = 0


def deliveries_reclaim_stale() -> int:
    """Deliveries left "delivering" by a dead worker go back to pending (one UPDATE)."""
    cutoff = timezone.now() - timedelta(seconds=config.stale_delivering_seconds())
    return WebhookDelivery.objects.filter(
        state=State.DELIVERING, next_attempt_at__lt=cutoff
    ).update(state=State.PENDING)


def deliveries_post_due(
    *, limit: int | None = None, seconds: float | None = None
) -> DeliveryResult:
    """Post the due pending deliveries, oldest first, at most `limit` per run, and claim no
    more once `seconds` have passed (a run must end before the next minute's starts and before
    its time limit; what is left is due for the next run)."""
    started = time.monotonic()
    result = DeliveryResult(reclaimed=deliveries_reclaim_stale())
    due = list(
        WebhookDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[: limit or config.batch_size()]
    )
    for delivery_id in due:
        if seconds is not None and time.monotonic() - started > seconds:
            break
        outcome = delivery_attempt(delivery_id)
        if outcome is not None:
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def delivery_attempt(delivery_id: int) -> str | None:
    """One attempt at one delivery: "delivered", "retried", "gave_up", or None if another
    worker claimed it first."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, state=State.PENDING).update(
        state=State.DELIVERING, attempts=F("attempts") + 1, next_attempt_at=now
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    status, error = _post(delivery)
    mine = WebhookDelivery.objects.filter(
        pk=delivery_id, state=State.DELIVERING, attempts=delivery.attempts
    )
    if status is not None and 200 <= status < 300:
        mine.update(
            state=State.DELIVERED,
            delivered_at=timezone.now(),
            last_status_code=status,
            last_error="",
        )
        return "delivered"
    if delivery.attempts >= config.max_attempts() or not delivery.endpoint.is_active:
        mine.update(state=State.GAVE_UP, last_status_code=status, last_error=error)
        return "gave_up"
    mine.update(
        state=State.PENDING,
        next_attempt_at=timezone.now() + backoff(delivery.attempts),
        last_status_code=status,
        last_error=error,
    )
    return "retried"


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "loyalty-crm-webhooks/1",
        "X-Webhook-Id": str(delivery.event_id),
        "X-Webhook-Event": delivery.event_type,
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": signature(delivery.endpoint.secret, timestamp, body),
    }
    try:
        status = http_post(delivery.endpoint.url, body, headers, config.timeout_seconds())
    except (OSError, ValueError) as exc:  # refused, timed out, DNS, a bad URL
        return None, repr(exc)[:2000]
    return status, "" if 200 <= status < 300 else f"HTTP {status}"
