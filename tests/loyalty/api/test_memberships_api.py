"""loyalty's API: a customer's memberships explained, and the tier distribution of a program."""

import json
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.services.evaluation import program_evaluate
from tests.factories import UserFactory
from tests.loyalty.factories import (
    SHANGHAI,
    customer_since_2025,
    products,
    spend,
    tiered_program,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 16)
YESTERDAY = TODAY - timedelta(days=1)


def memberships_url(customer_id: int) -> str:
    return f"/api/v1/loyalty/customers/{customer_id}/memberships/"


def distribution_url(code: str) -> str:
    return f"/api/v1/loyalty/programs/{code}/distribution/"


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def program(db):
    return tiered_program()


def see_all_user():
    user = UserFactory(username="head_office")
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_all_customers", "view_membership"],
            content_type__app_label__in=["crm", "loyalty"],
        )
    )
    return user


def test_an_rm_gets_their_customers_memberships_explained(token_client, rm, program):
    customer = customer_since_2025(owner=rm)
    products(customer, 2)
    spend(customer, "18000.00")
    program_evaluate(program_id=program.pk, as_of=YESTERDAY)

    response = token_client(rm).get(memberships_url(customer.pk))

    assert response.status_code == 200
    body = response.json()
    assert (body["customer"], body["as_of"]) == (customer.pk, "2026-03-16")
    [bank] = body["programs"]
    assert bank["program_code"] == "bank"
    assert bank["membership"] == {"tier_rank": 2, "tier_name": "Silver", "since": "2026-03-15"}
    card = next(group for group in bank["next_tier"]["groups"] if group["name"] == "card spend")
    assert card["distance"] == ["12,000.00 more spend (card) within a 12-month window"]
    [condition] = card["conditions"]
    assert (condition["value"], condition["threshold"], condition["gap"]) == (
        "18000.00",
        "30000.00",
        "12000.00",
    )
    assert (condition["operator"], condition["holds"]) == (">=", False)
    assert [tier["rank"] for tier in bank["tiers"]] == [3, 2, 1]
    following = bank["next_evaluation"]
    assert (following["runs_on"], following["kind"], following["outcome"]) == (
        "2026-03-17",
        None,
        "stays at Silver",
    )
    [joined] = bank["changes"]
    assert (joined["kind"], joined["to_tier"], joined["from_rank"]) == ("joined", "Silver", None)


def test_a_customer_not_evaluated_yet_has_no_membership_and_what_they_qualify_for(
    api_client, rm, program
):
    customer = customer_since_2025(owner=rm)
    spend(customer, "30000")
    api_client.force_login(rm)  # the admin's session works too

    [bank] = api_client.get(memberships_url(customer.pk)).json()["programs"]

    assert bank["membership"] is None
    assert (bank["qualified_rank"], bank["qualified_tier"]) == (3, "Gold")
    assert (bank["next_evaluation"]["kind"], bank["next_evaluation"]["to_rank"]) == ("joined", 3)


def test_inactive_programs_are_left_out(token_client, rm, program):
    old = tiered_program(code="old", name="Old")
    old.is_active = False
    old.save(update_fields=["is_active"])
    customer = customer_since_2025(owner=rm)

    body = token_client(rm).get(memberships_url(customer.pk)).json()

    assert [explanation["program_code"] for explanation in body["programs"]] == ["bank"]


def test_another_rms_customer_is_404_like_a_missing_one(token_client, rm, foreign_rm, program):
    theirs = customer_since_2025(owner=foreign_rm)
    client = token_client(rm)

    assert client.get(memberships_url(theirs.pk)).status_code == 404
    assert client.get(memberships_url(theirs.pk + 1000)).status_code == 404


def test_a_supervisor_sees_their_teams_customer(token_client, supervisor, rm, program):
    customer = customer_since_2025(owner=rm)
    assert token_client(supervisor).get(memberships_url(customer.pk)).status_code == 200


@pytest.mark.parametrize("url", [memberships_url(1), distribution_url("bank")])
def test_unauthenticated_calls_get_401(api_client, url, program):
    customer_since_2025()
    assert api_client.get(url).status_code == 401


def test_a_user_without_the_loyalty_permission_gets_403(token_client, program):
    integration = UserFactory(username="shop_system", is_staff=False)
    integration.user_permissions.add(Permission.objects.get(codename="view_all_customers"))
    customer = customer_since_2025()
    client = token_client(integration)

    assert client.get(memberships_url(customer.pk)).status_code == 403
    assert client.get(distribution_url("bank")).status_code == 403


@pytest.fixture
def distributed(program, rm, other_rm, foreign_rm):
    """rm: 1 Member, 2 Silver, 1 not evaluated yet; other_rm (same team): 1 Gold; foreign_rm
    (another team): 1 Gold, 1 Member; a merged customer is not counted."""
    products(customer_since_2025(owner=rm), 2)
    products(customer_since_2025(owner=rm), 2)
    customer_since_2025(owner=rm)
    spend(customer_since_2025(owner=other_rm), "30000")
    spend(customer_since_2025(owner=foreign_rm), "30000")
    customer_since_2025(owner=foreign_rm)
    program_evaluate(program_id=program.pk, as_of=YESTERDAY)
    customer_since_2025(owner=rm)  # after the run: not evaluated yet
    customer_since_2025(owner=rm, status="merged")
    return program


def counts(response) -> tuple[dict[int, int], int]:
    body = response.json()
    return {tier["rank"]: tier["members"] for tier in body["tiers"]}, body["not_evaluated"]


def test_an_rm_counts_only_their_customers(token_client, rm, distributed):
    response = token_client(rm).get(distribution_url("bank"))

    assert response.status_code == 200
    assert counts(response) == ({1: 1, 2: 2, 3: 0}, 1)
    body = response.json()
    assert (body["program_code"], body["customers"]) == ("bank", 4)
    assert [tier["name"] for tier in body["tiers"]] == ["Member", "Silver", "Gold"]


def test_a_supervisor_counts_their_team(token_client, supervisor, distributed):
    response = token_client(supervisor).get(distribution_url("bank"))
    assert counts(response) == ({1: 1, 2: 2, 3: 1}, 1)


def test_a_user_who_sees_every_customer_counts_them_all(token_client, distributed):
    response = token_client(see_all_user()).get(distribution_url("bank"))
    assert counts(response) == ({1: 2, 2: 2, 3: 2}, 1)


def test_an_unknown_program_is_404(token_client, rm, program):
    assert token_client(rm).get(distribution_url("nope")).status_code == 404


@pytest.mark.parametrize("user", ["rm", "supervisor", "see_all"])
def test_the_distribution_takes_the_same_queries_for_more_customers(
    token_client, rm, supervisor, program, user
):
    caller = {"rm": rm, "supervisor": supervisor, "see_all": None}[user] or see_all_user()
    client = token_client(caller)
    measured = []
    for batch in (2, 8):
        for _ in range(batch):
            products(customer_since_2025(owner=rm), 2)
        program_evaluate(program_id=program.pk, as_of=YESTERDAY - timedelta(days=batch))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(distribution_url("bank"))
        measured.append((len(queries), response.json()["tiers"][1]["members"]))

    (first, silver_first), (second, silver_second) = measured
    assert first == second
    assert (silver_first, silver_second) == (2, 10)


def test_the_schema_documents_the_loyalty_endpoints(tmp_path):
    path = tmp_path / "schema.json"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )

    schema = json.loads(path.read_text())
    memberships = schema["paths"]["/api/v1/loyalty/customers/{customer_id}/memberships/"]["get"]
    assert "distance to the next tier" in memberships["description"]
    assert "/api/v1/loyalty/programs/{code}/distribution/" in schema["paths"]
    explanation = schema["components"]["schemas"]["ExplanationOutput"]["properties"]
    assert {"tiers", "next_tier", "warning", "grace", "credit_block", "next_evaluation"} <= set(
        explanation
    )
