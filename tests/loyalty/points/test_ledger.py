"""The posting primitives: balances, lots oldest first, keys, negative balances."""

from datetime import date

import pytest
from django.db.models import Sum

from loyalty.models import PointsAllocation, PointsEntry, PointsLot
from loyalty.services.ledger import (
    InsufficientPoints,
    KeyReused,
    account_get_or_create,
    credit,
    debit,
)
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind


@pytest.fixture
def account():
    return account_get_or_create(
        customer_id=CustomerFactory().pk, program_id=ProgramFactory(code="bank").pk
    )


def earn(account, points, key, expires_on=date(2027, 6, 1)):
    return credit(account=account, kind=Kind.EARN, points=points, key=key, expires_on=expires_on)


def remaining(account):
    return dict(PointsLot.objects.filter(account=account).values_list("entry__key", "remaining"))


def entries_sum(account):
    return PointsEntry.objects.filter(account=account).aggregate(total=Sum("points"))["total"]


def test_spending_takes_the_oldest_expiry_first(account):
    earn(account, 100, "late", expires_on=date(2027, 9, 1))
    earn(account, 50, "early", expires_on=date(2027, 3, 1))
    posting = debit(account=account, kind=Kind.REDEEM, points=70, key="r1")

    assert remaining(account) == {"late": 80, "early": 0}
    assert posting.entry.points == -70
    assert sorted(PointsAllocation.objects.values_list("lot__entry__key", "points")) == [
        ("early", 50),
        ("late", 20),
    ]
    account.refresh_from_db()
    assert account.balance == entries_sum(account) == 80


def test_a_spend_beyond_the_balance_changes_nothing(account):
    earn(account, 30, "e1")
    with pytest.raises(InsufficientPoints):
        debit(account=account, kind=Kind.REDEEM, points=31, key="r1")
    account.refresh_from_db()
    assert account.balance == 30
    assert not PointsEntry.objects.filter(key="r1").exists()
    assert remaining(account) == {"e1": 30}


def test_the_same_key_posts_once(account):
    first = earn(account, 10, "k")
    again = earn(account, 10, "k")
    assert first.created
    assert not again.created
    assert again.entry.pk == first.entry.pk
    account.refresh_from_db()
    assert account.balance == 10


def test_the_same_key_for_another_request_is_refused(account):
    credit(
        account=account,
        kind=Kind.EARN,
        points=10,
        key="k",
        fingerprint="a" * 64,
        expires_on=date(2027, 1, 1),
    )
    with pytest.raises(KeyReused):
        credit(
            account=account,
            kind=Kind.EARN,
            points=11,
            key="k",
            fingerprint="b" * 64,
            expires_on=date(2027, 1, 1),
        )


def test_a_reversal_may_go_negative_and_later_earnings_pay_it_off(account):
    earned = earn(account, 100, "e1").entry
    debit(account=account, kind=Kind.REDEEM, points=80, key="r1")
    debit(
        account=account,
        kind=Kind.REVERSE,
        points=100,
        key="refund",
        allow_negative=True,
        first_lot_id=earned.pk,
        reverses=earned,
    )
    account.refresh_from_db()
    assert account.balance == -80
    assert remaining(account) == {"e1": 0}

    earn(account, 50, "e2")
    earn(account, 50, "e3")
    account.refresh_from_db()
    assert account.balance == entries_sum(account) == 20
    assert remaining(account) == {"e1": 0, "e3": 20}
