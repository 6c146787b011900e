"""The ledger under concurrency, on PostgreSQL with real threads (each its own connection).

SQLite serialises writers (IMMEDIATE transactions) and cannot show a race; the guarded
UPDATE and the unique keys are what these tests prove on the database that runs in production.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Sum
from knox.models import AuthToken
from rest_framework.test import APIClient

from loyalty.ledger_check import ledger_discrepancies
from loyalty.models import PointsAccount, PointsEntry
from loyalty.services.ledger import InsufficientPoints, account_get_or_create, credit, debit
from tests.factories import CustomerFactory, UserFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="A race needs PostgreSQL's concurrent writers."
    ),
]
Kind = PointsEntry.Kind


def at_once(count: int, work):
    """Run `work(index)` in `count` threads released together; each closes its connection."""
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait()
        try:
            return work(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_fifty_redemptions_of_ten_against_a_hundred_exactly_ten_succeed():
    account = account_get_or_create(
        customer_id=CustomerFactory().pk, program_id=ProgramFactory(code="bank").pk
    )
    credit(account=account, kind=Kind.EARN, points=60, key="e1", expires_on=date(2027, 1, 1))
    credit(account=account, kind=Kind.EARN, points=40, key="e2", expires_on=date(2027, 6, 1))

    def redeem(index):
        try:
            debit(account=account, kind=Kind.REDEEM, points=10, key=f"redeem-{index}")
        except InsufficientPoints:
            return "insufficient"
        return "redeemed"

    outcomes = at_once(50, redeem)

    assert outcomes.count("redeemed") == 10
    assert outcomes.count("insufficient") == 40
    account.refresh_from_db()
    assert account.balance == 0
    assert PointsEntry.objects.filter(account=account).aggregate(total=Sum("points"))["total"] == 0
    assert PointsEntry.objects.filter(kind=Kind.REDEEM).count() == 10
    assert ledger_discrepancies() == []


def test_one_idempotency_key_sent_twenty_times_at_once_posts_one_entry():
    program = ProgramFactory(code="bank")
    customer = CustomerFactory()
    shop = UserFactory(username="shop_system", is_staff=False)
    shop.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_all_customers", "view_pointsentry", "add_pointsentry"]
        )
    )
    # The account exists: the race is on the key, not on opening the account.
    account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    _token, secret = AuthToken.objects.create(user=shop)
    url = f"/api/v1/loyalty/customers/{customer.pk}/points/bank/earn/"

    def send(body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="order-77")
        return response.status_code, response.json()

    answers = at_once(20, lambda _index: send({"points": 250, "reason": "Order 77"}))

    assert {status for status, _body in answers} == {201}
    assert all(body == answers[0][1] for _status, body in answers)
    assert PointsEntry.objects.count() == 1
    assert PointsAccount.objects.get().balance == 250

    status, body = send({"points": 251, "reason": "Order 77"})

    assert status == 422
    assert PointsEntry.objects.count() == 1
    assert PointsAccount.objects.get().balance == 250
    assert ledger_discrepancies() == []
