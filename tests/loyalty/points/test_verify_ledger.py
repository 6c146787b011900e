"""verify_ledger: each invariant broken by hand (derived tables only; entries are
append-only) is found, named, and makes the command fail."""

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from loyalty.ledger_check import ledger_discrepancies
from loyalty.models import PointsAccount, PointsAllocation, PointsEntry, PointsLot
from loyalty.services.ledger import account_get_or_create, credit, debit
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
    return credit(
        account=account, kind=Kind.EARN, points=points, key=key, expires_on=expires_on
    ).entry


def broken():
    return {result.check.name: result.examples for result in ledger_discrepancies()}


def verify(capsys) -> tuple[bool, str]:
    try:
        call_command("verify_ledger")
    except CommandError:
        return False, capsys.readouterr().out
    return True, capsys.readouterr().out


def test_a_consistent_ledger_passes(account, capsys):
    earned = earn(account, 100, "e1")
    earn(account, 50, "e2", expires_on=date(2027, 1, 1))
    debit(account=account, kind=Kind.REDEEM, points=70, key="r1")
    debit(
        account=account,
        kind=Kind.REVERSE,
        points=60,
        key="rev1",
        reverses=earned,
        allow_negative=True,
        first_lot_id=earned.pk,
    )

    assert broken() == {}
    ok, out = verify(capsys)
    assert ok
    assert "ok     balance_equals_entries: 0" in out


def test_a_balance_moved_without_an_entry_is_found(account, capsys):
    earn(account, 100, "e1")
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + 5)

    assert broken() == {
        "balance_equals_entries": [account.pk],
        "lots_equal_balance": [account.pk],
    }
    ok, out = verify(capsys)
    assert not ok
    assert "BROKEN balance_equals_entries: 1" in out
    assert f"e.g. ids {account.pk}" in out


def test_an_entry_without_its_lot_is_found(account, capsys):
    earn(account, 100, "e1")
    # An entry inserted with its balance update but without the lot it should open.
    PointsEntry.objects.create(
        account=account, kind=Kind.EARN, points=7, key="raw", occurred_on=date(2026, 1, 1)
    )
    PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + 7)

    assert broken() == {"lots_equal_balance": [account.pk]}
    assert not verify(capsys)[0]


def test_a_lot_that_does_not_match_its_allocations_is_found(account, capsys):
    earned = earn(account, 100, "e1")
    debit(account=account, kind=Kind.REDEEM, points=30, key="r1")
    PointsAllocation.objects.filter(entry__key="r1").update(points=20)

    result = broken()
    assert result["lot_remaining_equals_allocations"] == [earned.pk]
    assert not verify(capsys)[0]


def test_a_lot_larger_than_its_entry_is_found(account, capsys):
    earned = earn(account, 100, "e1")
    PointsLot.objects.filter(pk=earned.pk).update(initial=150, remaining=150)
    PointsAccount.objects.filter(pk=account.pk).update(balance=150)

    result = broken()
    assert result["lot_within_entry"] == [earned.pk]
    assert "lot_remaining_equals_allocations" not in result
    assert not verify(capsys)[0]


def test_an_entry_reversed_beyond_its_points_is_found(account, capsys):
    earned = earn(account, 100, "e1")
    for key in ("rev1", "rev2"):
        debit(
            account=account,
            kind=Kind.REVERSE,
            points=60,
            key=key,
            reverses=earned,
            allow_negative=True,
        )

    assert broken() == {"reversed_within_points": [earned.pk]}
    assert not verify(capsys)[0]


def test_an_entry_that_took_more_than_its_points_is_found(account, capsys):
    earn(account, 100, "e1")
    second = earn(account, 100, "e2", expires_on=date(2028, 1, 1))
    redeemed = debit(account=account, kind=Kind.REDEEM, points=30, key="r1").entry
    PointsAllocation.objects.create(entry=redeemed, lot_id=second.pk, points=5)

    result = broken()
    assert result["allocations_within_entry"] == [redeemed.pk]
    assert not verify(capsys)[0]
