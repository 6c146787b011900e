"""The points API: balances, entries (cursor-paginated), and earning with idempotency keys."""

from datetime import date, datetime

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Sum

from loyalty.ledger_check import ledger_discrepancies
from loyalty.models import IdempotencyKey, PointsAccount, PointsEntry
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import CustomerFactory, UserFactory
from tests.loyalty.factories import SHANGHAI, ProgramFactory

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind


def points_url(customer_id):
    return f"/api/v1/loyalty/customers/{customer_id}/points/"


def entries_url(customer_id, code="bank"):
    return f"/api/v1/loyalty/customers/{customer_id}/points/{code}/entries/"


def earn_url(customer_id, code="bank"):
    return f"/api/v1/loyalty/customers/{customer_id}/points/{code}/earn/"


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def program(db):
    return ProgramFactory(code="bank", points_expiry_months=24)


def grant(user, *codenames):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


@pytest.fixture
def shop(db):
    """A system that computes its own points: sees every customer, may earn."""
    user = UserFactory(username="shop_system", is_staff=False)
    grant(user, "view_all_customers", "view_pointsentry", "add_pointsentry")
    return user


def post_earn(client, customer_id, body, key="k-1", code="bank"):
    return client.post(earn_url(customer_id, code), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_system_earns_points_that_expire_as_the_program_says(token_client, shop, program):
    customer = CustomerFactory()
    client = token_client(shop)

    response = post_earn(client, customer.pk, {"points": 120, "reason": "Order 77"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "earn"
    assert body["points"] == 120
    assert "balance" not in body  # a replay answers the same: the balance would have moved
    assert body["reason"] == "Order 77"
    assert body["occurred_on"] == "2026-03-16"
    assert body["expires_on"] == "2028-03-16"
    entry = PointsEntry.objects.get()
    assert entry.key == f"api:{shop.pk}:k-1"
    assert entry.created_by == shop
    assert entry.lot.remaining == 120
    assert ledger_discrepancies() == []


def test_the_same_key_replays_and_a_different_body_is_refused(token_client, shop, program):
    customer = CustomerFactory()
    client = token_client(shop)
    first = post_earn(client, customer.pk, {"points": 50, "reason": "Order 1"})

    again = post_earn(client, customer.pk, {"points": 50, "reason": "Order 1"})
    other = post_earn(client, customer.pk, {"points": 60, "reason": "Order 1"})

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert PointsEntry.objects.count() == 1
    assert PointsAccount.objects.get().balance == 50


def test_earning_with_a_past_day_counts_expiry_from_that_day(token_client, shop, program):
    customer = CustomerFactory()

    response = post_earn(
        token_client(shop),
        customer.pk,
        {"points": 10, "reason": "Late", "occurred_on": "2025-12-31"},
    )

    assert response.status_code == 201
    assert response.json()["expires_on"] == "2027-12-31"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": 0, "reason": "x"}, "points"),
        ({"points": 1_000_001, "reason": "x"}, "points"),
        ({"points": 5}, "reason"),
        ({"points": 5, "reason": "x", "occurred_on": "2026-03-17"}, "occurred_on"),
        ({"points": 5, "reason": "x", "kind": "adjust"}, "kind"),
    ],
)
def test_bad_input_is_a_400_and_posts_nothing(token_client, shop, program, body, field):
    response = post_earn(token_client(shop), CustomerFactory().pk, body)

    assert response.status_code == 400
    assert field in response.json()
    assert not PointsEntry.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_earning_without_a_key_is_a_400(token_client, shop, program):
    client = token_client(shop)
    response = client.post(earn_url(CustomerFactory().pk), {"points": 5, "reason": "x"})

    assert response.status_code == 400
    assert not PointsEntry.objects.exists()


def test_staff_may_not_earn_and_unknown_customers_or_programs_are_404(
    token_client, rm, shop, program
):
    customer = CustomerFactory(owner=rm)
    assert post_earn(token_client(rm), customer.pk, {"points": 5, "reason": "x"}).status_code == 403
    client = token_client(shop)
    assert post_earn(client, 999_999, {"points": 5, "reason": "x"}).status_code == 404
    assert (
        post_earn(client, customer.pk, {"points": 5, "reason": "x"}, code="nope").status_code == 404
    )
    assert not PointsEntry.objects.exists()


def test_earning_for_a_customer_the_caller_may_not_see_is_404(
    token_client, rm, foreign_rm, program
):
    grant(foreign_rm, "add_pointsentry")
    customer = CustomerFactory(owner=rm)

    response = post_earn(token_client(foreign_rm), customer.pk, {"points": 5, "reason": "x"})

    assert response.status_code == 404
    assert not PointsEntry.objects.exists()


def test_the_earn_query_budget(token_client, shop, program, django_assert_num_queries):
    customer = CustomerFactory()
    account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    client = token_client(shop)
    post_earn(client, customer.pk, {"points": 1, "reason": "warm-up"}, key="warm")

    # 1-2 the token with its user, then the user's tokens (knox), 3-4 the user's and groups'
    # permissions, 5 the account with its program (visibility in the same query); then the
    # posting's transaction (here a savepoint: 6 and 10; in production BEGIN/COMMIT, not
    # counted): 7 the balance UPDATE ... RETURNING, 8 the entry INSERT, 9 the lot INSERT. The
    # entry is the key's record: no other table is read or written.
    with django_assert_num_queries(10):
        response = post_earn(client, customer.pk, {"points": 5, "reason": "Order 2"}, key="k-2")
    assert response.status_code == 201


def test_balances_and_what_expires_soon(token_client, rm, program):
    grant(rm, "view_pointsentry")
    customer = CustomerFactory(owner=rm)
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    credit(account=account, kind=Kind.EARN, points=100, key="e1", expires_on=date(2026, 4, 1))
    credit(account=account, kind=Kind.EARN, points=40, key="e2", expires_on=date(2026, 4, 10))
    credit(account=account, kind=Kind.EARN, points=70, key="e3", expires_on=date(2027, 1, 1))
    debit(account=account, kind=Kind.REDEEM, points=30, key="r1")

    response = token_client(rm).get(points_url(customer.pk))

    assert response.status_code == 200
    assert response.json() == {
        "customer": customer.pk,
        "as_of": "2026-03-16",
        "expiring_until": "2026-04-15",
        "programs": [
            {
                "program": "bank",
                "program_name": program.name,
                "balance": 180,
                "expiring_soon": 110,
                "expiring": [
                    {"expires_on": "2026-04-01", "points": 70},
                    {"expires_on": "2026-04-10", "points": 40},
                ],
            }
        ],
    }


def test_reads_are_scoped_and_need_the_permission(token_client, rm, foreign_rm, program):
    grant(foreign_rm, "view_pointsentry")
    customer = CustomerFactory(owner=rm)

    assert token_client(foreign_rm).get(points_url(customer.pk)).status_code == 404
    assert token_client(foreign_rm).get(entries_url(customer.pk)).status_code == 404
    nobody = UserFactory(username="nobody")
    grant(nobody, "view_all_customers")
    assert token_client(nobody).get(points_url(customer.pk)).status_code == 403


def test_entries_are_cursor_paginated_newest_first_in_constant_queries(
    token_client, rm, program, django_assert_num_queries
):
    grant(rm, "view_pointsentry")
    customer = CustomerFactory(owner=rm)
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    for number in range(5):
        credit(
            account=account,
            kind=Kind.EARN,
            points=10 + number,
            key=f"e{number}",
            expires_on=date(2027, 1, 1),
            note=f"order {number}",
        )
    client = token_client(rm)

    # 1-2 token (knox), 3-4 permissions, 5 the teams the RM supervises (visibility), 6 the
    # account (scoped), 7 the page: whatever the number of entries.
    with django_assert_num_queries(7):
        first = client.get(entries_url(customer.pk), {"page_size": 3})
    page = first.json()
    assert [row["points"] for row in page["results"]] == [14, 13, 12]
    assert page["results"][0]["reason"] == "order 4"
    with django_assert_num_queries(7):
        second = client.get(page["next"])
    assert [row["points"] for row in second.json()["results"]] == [11, 10]


def test_entries_of_a_customer_without_an_account_are_an_empty_list(token_client, rm, program):
    grant(rm, "view_pointsentry")
    customer = CustomerFactory(owner=rm)

    response = token_client(rm).get(entries_url(customer.pk))

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert token_client(rm).get(entries_url(customer.pk, code="nope")).status_code == 404


def test_sum_of_entries_is_the_balance_after_api_earns(token_client, shop, program):
    customer = CustomerFactory()
    client = token_client(shop)
    for number in range(3):
        post_earn(client, customer.pk, {"points": 10, "reason": "x"}, key=f"k{number}")

    total = PointsEntry.objects.aggregate(total=Sum("points"))["total"]
    assert total == PointsAccount.objects.get().balance == 30
