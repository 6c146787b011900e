"""The tickets API: open (201, then 200 with the same ticket for the same external id), list
(scoped, filtered, no N+1), read, status changes through the state machine (an invalid one is
a 400 with the message), replies; and the schema stays valid."""

import json

import pytest
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import CustomerFactory
from tests.workflows.tickets_core_data import agent, open_ticket
from workflows.models import Ticket, TicketNote

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


def client_for(user) -> APIClient:
    client = APIClient()
    _token, key = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture(autouse=True)
def _frozen(noon):
    """A Wednesday noon in Shanghai."""


def test_opening_twice_with_one_external_id_gives_201_then_200_with_the_same_ticket(rm):
    worker = agent("worker")
    customer = CustomerFactory(owner=rm)
    body = {
        "customer": customer.pk,
        "category": "app",
        "subject": "手机银行闪退",
        "external_id": "callcentre-8841",
    }
    client = client_for(rm)

    first = client.post(TICKETS, body, format="json")
    again = client.post(TICKETS, {**body, "subject": "changed"}, format="json")

    assert first.status_code == 201, first.json()
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["subject"] == "手机银行闪退"
    assert first.json()["assignee"] is None  # the worker is customer service, not tech support
    assert first.json()["department"] == "tech_support"
    assert Ticket.objects.count() == 1
    assert worker


def test_opening_needs_the_permission_and_a_visible_customer(rm, foreign_rm):
    client = client_for(rm)
    response = client.post(
        TICKETS,
        {"customer": CustomerFactory(owner=foreign_rm).pk, "category": "card", "subject": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "customer" in response.json()
    response = client.post(TICKETS, {"customer": 1, "category": "nope"}, format="json")
    assert response.status_code == 400
    assert {"category", "subject"} <= set(response.json())
    assert Ticket.objects.count() == 0
    no_role = agent("no_role")
    assert client_for(no_role).post(TICKETS, {}, format="json").status_code == 403


def test_the_list_is_scoped_filtered_and_costs_the_same_for_many(
    rm, supervisor, foreign_rm, django_assert_num_queries
):
    mine = open_ticket(CustomerFactory(owner=rm), priority=3)
    open_ticket(CustomerFactory(owner=foreign_rm))
    client = client_for(rm)
    # token (2), permissions (2), supervised teams (1), tickets with their assignees (1)
    with django_assert_num_queries(6):
        results = client.get(TICKETS).json()["results"]
    assert [row["id"] for row in results] == [mine.pk]
    for _n in range(4):
        open_ticket(CustomerFactory(owner=rm))
    with django_assert_num_queries(6):
        assert len(client.get(TICKETS).json()["results"]) == 5

    assert [r["id"] for r in client.get(TICKETS, {"priority": 3}).json()["results"]] == [mine.pk]
    assert client.get(TICKETS, {"status": "resolved"}).json()["results"] == []
    Ticket.objects.filter(pk=mine.pk).update(resolution_breached_at=mine.created_at)
    breached = client.get(TICKETS, {"breached": "true"}).json()["results"]
    assert [row["id"] for row in breached] == [mine.pk]
    assert len(client.get(TICKETS, {"breached": "false"}).json()["results"]) == 4
    assert len(client_for(supervisor).get(TICKETS).json()["results"]) == 5
    assert client_for(foreign_rm).get(f"{TICKETS}{mine.pk}/").status_code == 404
    assert client.get(f"{TICKETS}{mine.pk}/").json()["id"] == mine.pk


def test_status_changes_follow_the_state_machine(rm):
    ticket = open_ticket(CustomerFactory(owner=rm))
    client = client_for(rm)
    url = f"{TICKETS}{ticket.pk}/status/"

    refused = client.post(url, {"status": "closed"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["A ticket cannot go from “New” to “Closed”."]}

    done = client.post(url, {"status": "resolved", "note": "reset the password"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "resolved"
    assert TicketNote.objects.get(ticket=ticket).body == "reset the password"
    assert client.post(url, {"status": "later"}, format="json").status_code == 400


def test_a_reply_is_the_first_response(rm, foreign_rm):
    ticket = open_ticket(CustomerFactory(owner=rm))
    url = f"{TICKETS}{ticket.pk}/replies/"

    response = client_for(rm).post(url, {"body": "您好，已处理。"}, format="json")
    internal = client_for(rm).post(url, {"body": "called", "internal": True}, format="json")

    assert response.status_code == 201
    assert response.json()["kind"] == "reply"
    assert internal.json()["kind"] == "internal"
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    assert client_for(rm).post(url, {"body": " "}, format="json").status_code == 400
    assert client_for(foreign_rm).post(url, {"body": "x"}, format="json").status_code == 404


def test_the_schema_with_the_tickets_api_is_valid(tmp_path):
    path = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )
    paths = set(json.loads(path.read_text())["paths"])
    assert {
        "/api/v1/tickets/",
        "/api/v1/tickets/{id}/",
        "/api/v1/tickets/{id}/status/",
        "/api/v1/tickets/{id}/replies/",
    } <= paths
