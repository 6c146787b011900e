"""Webhooks in admin: endpoints with events as checkboxes and a secret shown once; the log."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from workflows.models import WebhookDelivery, WebhookEndpoint
from workflows.webhooks.emit import webhook_event_emit

pytestmark = pytest.mark.django_db
ENDPOINTS = reverse("admin:workflows_webhookendpoint_changelist")
DELIVERIES = reverse("admin:workflows_webhookdelivery_changelist")


@pytest.fixture
def admin_user():
    return UserFactory(is_superuser=True)


def test_an_endpoint_is_created_with_its_events_and_the_secret_shown_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:workflows_webhookendpoint_add"),
        {
            "name": "ERP",
            "url": "https://erp.example.com/hook",
            "events": ["tier.changed"],
            "is_active": "on",
        },
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["tier.changed"]
    assert endpoint.secret in response.content.decode()

    page = client.get(reverse("admin:workflows_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in page.content.decode()
    assert endpoint.secret not in client.get(ENDPOINTS).content.decode()


def test_the_delivery_log_has_a_constant_number_of_queries(
    client, admin_user, django_assert_num_queries
):
    endpoint = WebhookEndpoint.objects.create(
        name="a", url="https://a.example/", events=["tier.changed"]
    )
    WebhookEndpoint.objects.create(name="b", url="https://b.example/", events=["tier.changed"])
    webhook_event_emit(event_type="tier.changed", payloads=[{"n": 1}])
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as captured:
        client.get(DELIVERIES)
    webhook_event_emit(event_type="tier.changed", payloads=[{"n": n} for n in range(10)])

    with django_assert_num_queries(len(captured)):
        response = client.get(DELIVERIES, {"state__exact": "pending"})
    assert len(response.context["cl"].result_list) == 22
    assert client.get(DELIVERIES, {"endpoint__id__exact": endpoint.pk}).status_code == 200


def test_retry_sends_a_given_up_delivery_again(client, admin_user):
    WebhookEndpoint.objects.create(name="a", url="https://a.example/", events=["tier.changed"])
    webhook_event_emit(event_type="tier.changed", payloads=[{"n": 1}])
    WebhookDelivery.objects.update(state="gave_up", attempts=8)
    client.force_login(admin_user)
    delivery = WebhookDelivery.objects.get()
    client.post(DELIVERIES, {"action": "retry", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
