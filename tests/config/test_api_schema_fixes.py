"""What schemathesis (.ci/schemathesis) found, kept fixed."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from crm.models import Transaction
from tests.factories import CustomerFactory, TransactionFactory


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/feedback/responses/", "submitted_before"),
        ("/api/v1/transactions/", "occurred_after"),
    ],
)
def test_a_time_with_an_offset_postgresql_refuses_is_read_in_utc(supervisor, url, parameter):
    """`+16:53` is a valid ISO 8601 offset that PostgreSQL refuses: it was a 500."""
    client = APIClient()
    client.force_authenticate(supervisor)
    response = client.get(url, {parameter: "2026-01-24T19:26:41+16:53"})
    assert response.status_code == 200, response.content
    response = client.get(url, {parameter: "0001-01-01T00:30:00+10:00"})
    assert response.status_code == 400
    assert parameter in response.json()


@pytest.mark.django_db
def test_the_utc_filter_compares_the_same_instant(supervisor, rm):
    customer = CustomerFactory(owner=rm)
    TransactionFactory(customer=customer)
    client = APIClient()
    client.force_authenticate(supervisor)
    occurred = Transaction.objects.get().occurred_at
    east = occurred.astimezone(ZoneInfo("Pacific/Kiritimati"))  # +14:00
    after = client.get("/api/v1/transactions/", {"occurred_after": east.isoformat()})
    assert [row["id"] for row in after.json()["results"]] == [Transaction.objects.get().pk]
    later = (occurred + timedelta(seconds=1)).astimezone(ZoneInfo("Pacific/Kiritimati"))
    after = client.get("/api/v1/transactions/", {"occurred_after": later.isoformat()})
    assert after.json()["results"] == []


def test_a_ticket_without_assignee_is_described_as_nullable(schema):
    assignee = schema["components"]["schemas"]["TicketOutput"]["properties"]["assignee"]
    assert assignee["nullable"] is True


def test_the_evaluation_time_of_day_is_a_plain_local_time(schema):
    runs_at = schema["components"]["schemas"]["NextEvaluationOutput"]["properties"]["runs_at"]
    assert "format" not in runs_at
    assert runs_at["pattern"]
    assert runs_at["nullable"] is True
