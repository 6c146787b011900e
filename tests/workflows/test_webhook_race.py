"""Two workers posting due deliveries at once post each one once (PostgreSQL, real threads)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from workflows.models import WebhookDelivery, WebhookEndpoint
from workflows.webhooks import deliver
from workflows.webhooks.emit import webhook_event_emit


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a race needs PostgreSQL's locks")
def test_two_workers_post_each_delivery_once(monkeypatch):
    posted: Counter = Counter()
    lock = threading.Lock()

    def post(url, body, headers, timeout):
        with lock:
            posted[headers["X-Webhook-Id"]] += 1
        return 200

    monkeypatch.setattr(deliver, "http_post", post)
    WebhookEndpoint.objects.create(name="a", url="https://a.example/", events=["tier.changed"])
    webhook_event_emit(event_type="tier.changed", payloads=[{"n": n} for n in range(40)])
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            deliver.deliveries_post_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(posted) == 40
    assert set(posted.values()) == {1}
    assert WebhookDelivery.objects.filter(state="delivered").count() == 40
