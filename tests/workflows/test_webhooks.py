"""Outbound webhooks: one delivery per endpoint per event, signed, retried, given up on."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from workflows.models import WebhookDelivery, WebhookEndpoint
from workflows.models.webhooks import EventType
from workflows.webhooks import deliver
from workflows.webhooks.deliver import backoff, deliveries_post_due, signature
from workflows.webhooks.emit import webhook_event_emit

pytestmark = pytest.mark.django_db
State = WebhookDelivery.State


def endpoint(url="http://127.0.0.1:9/hook", events=(EventType.POINTS_EARNED,), **kwargs):
    return WebhookEndpoint.objects.create(name="erp", url=url, events=list(events), **kwargs)


def test_one_delivery_per_subscribed_active_endpoint_per_event():
    first, second = endpoint(), endpoint()
    endpoint(events=[EventType.TIER_CHANGED])
    endpoint(is_active=False)

    created = webhook_event_emit(
        event_type=EventType.POINTS_EARNED, payloads=[{"entry_id": 1}, {"entry_id": 2}]
    )

    assert created == 4
    rows = list(WebhookDelivery.objects.values_list("endpoint_id", "event_id", "payload"))
    assert sorted(row[0] for row in rows) == sorted([first.pk, first.pk, second.pk, second.pk])
    # The same event has the same id at every endpoint; two events, two ids.
    assert len({row[1] for row in rows}) == 2
    assert all(row[2]["id"] == str(row[1]) and row[2]["type"] == "points.earned" for row in rows)


def test_nobody_subscribed_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert webhook_event_emit(event_type=EventType.POINTS_EARNED, payloads=[{"x": 1}]) == 0


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhook_event_emit(event_type="nope", payloads=[{}])


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received, _Receiver.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Receiver
    server.shutdown()
    server.server_close()


def test_a_delivery_is_signed_with_the_endpoint_secret(receiver):
    server, handler = receiver
    hook = endpoint(url=f"http://127.0.0.1:{server.server_port}/hook")
    webhook_event_emit(event_type=EventType.POINTS_EARNED, payloads=[{"entry_id": 7}])

    result = deliveries_post_due()

    assert result.delivered == 1
    ((headers, body),) = handler.received
    delivery = WebhookDelivery.objects.get()
    assert headers["X-Webhook-Id"] == str(delivery.event_id)
    assert headers["X-Webhook-Event"] == "points.earned"
    expected = hmac.new(
        hook.secret.encode(),
        headers["X-Webhook-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Webhook-Signature"] == f"sha256={expected}"
    assert json.loads(body)["data"] == {"entry_id": 7}
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        State.DELIVERED,
        1,
        200,
    )
    # Delivered once: the next run posts nothing.
    assert deliveries_post_due().delivered == 0
    assert len(handler.received) == 1


def test_a_wrong_secret_gives_another_signature():
    assert signature("a", "1", b"{}") != signature("b", "1", b"{}")
    assert signature("a", "1", b"{}") != signature("a", "2", b"{}")


def test_failures_back_off_then_give_up(monkeypatch, settings):
    settings.WORKFLOWS_WEBHOOK_MAX_ATTEMPTS = 3
    calls = []
    monkeypatch.setattr(
        deliver, "http_post", lambda url, body, headers, timeout: calls.append(url) or 503
    )
    endpoint()
    webhook_event_emit(event_type=EventType.POINTS_EARNED, payloads=[{"entry_id": 1}])

    before = timezone.now()
    assert deliveries_post_due().retried == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.PENDING, 1, 503)
    assert delivery.next_attempt_at >= before + timedelta(minutes=1)
    # Not due yet: nothing is posted.
    assert deliveries_post_due().retried == 0
    assert len(calls) == 1

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert deliveries_post_due().retried == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= timezone.now() + timedelta(minutes=1, seconds=50)

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert deliveries_post_due().gave_up == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.GAVE_UP, 3)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert deliveries_post_due().gave_up == 0
    assert len(calls) == 3


def test_a_refused_connection_is_retried(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(deliver, "http_post", refuse)
    endpoint()
    webhook_event_emit(event_type=EventType.POINTS_EARNED, payloads=[{"entry_id": 1}])
    assert deliveries_post_due().retried == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code is None
    assert "refused" in delivery.last_error


def test_backoff_doubles_and_is_capped(settings):
    settings.WORKFLOWS_WEBHOOK_BACKOFF_CAP_SECONDS = 600
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 600]


def test_a_delivery_left_delivering_by_a_dead_worker_is_posted_again(monkeypatch):
    monkeypatch.setattr(deliver, "http_post", lambda *args: 200)
    endpoint()
    webhook_event_emit(event_type=EventType.POINTS_EARNED, payloads=[{"entry_id": 1}])
    WebhookDelivery.objects.update(
        state=State.DELIVERING, attempts=1, next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    fresh = WebhookDelivery.objects.create(
        endpoint=WebhookEndpoint.objects.get(),
        event_type=EventType.POINTS_EARNED,
        payload={},
        state=State.DELIVERING,
        attempts=1,
    )

    result = deliveries_post_due()

    assert (result.reclaimed, result.delivered) == (1, 1)
    fresh.refresh_from_db()
    assert fresh.state == State.DELIVERING  # its worker may still be posting it


def test_a_claimed_delivery_is_not_posted_by_a_second_worker(monkeypatch):
    monkeypatch.setattr(deliver, "http_post", lambda *args: 200)
    endpoint()
    webhook_event_emit(event_type=EventType.POINTS_EARNED, payloads=[{"entry_id": 1}])
    delivery = WebhookDelivery.objects.get()
    assert deliver.delivery_attempt(delivery.pk) == "delivered"
    assert deliver.delivery_attempt(delivery.pk) is None
