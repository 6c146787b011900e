"""A customer merge with loyalty's points, benefit allowances and referrals on both sides."""

from datetime import date

import pytest

from crm.services.merges import customer_merge
from loyalty.ledger_check import ledger_discrepancies
from loyalty.models import (
    Benefit,
    BenefitAllowance,
    BenefitUse,
    PointsAccount,
    PointsEntry,
    PointsLot,
    Referral,
)
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import CustomerFactory, UserFactory
from tests.loyalty.factories import ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind


@pytest.fixture
def pair(rm):
    return CustomerFactory.create_batch(2, owner=rm)


def account_of(customer, program):
    return account_get_or_create(customer_id=customer.pk, program_id=program.pk)


def earn(account, points, key, expires_on):
    return credit(account=account, kind=Kind.EARN, points=points, key=key, expires_on=expires_on)


def open_lots(account):
    rows = PointsLot.objects.filter(account=account, remaining__gt=0).order_by("expires_on")
    by_day: dict[date, int] = {}
    for lot in rows:
        by_day[lot.expires_on] = by_day.get(lot.expires_on, 0) + lot.remaining
    return by_day


def test_points_in_the_same_program_move_keeping_their_expiry(supervisor, pair):
    survivor, duplicate = pair
    program = ProgramFactory(code="bank")
    ours, theirs = account_of(survivor, program), account_of(duplicate, program)
    earn(ours, 100, "s1", date(2027, 1, 1))
    earn(theirs, 50, "d1", date(2026, 6, 1))
    earn(theirs, 30, "d2", date(2027, 1, 1))
    debit(account=theirs, kind=Kind.REDEEM, points=20, key="d-redeem")

    merge = customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)

    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.balance == 160
    assert open_lots(ours) == {date(2026, 6, 1): 30, date(2027, 1, 1): 130}
    # The emptied account stays with the merged customer, its history intact.
    assert theirs.customer_id == duplicate.pk
    assert theirs.balance == 0
    assert PointsEntry.objects.filter(account=theirs).count() == 4
    moved_out = PointsEntry.objects.get(key=f"merge:{theirs.pk}:out")
    assert (moved_out.kind, moved_out.points) == (Kind.ADJUST, -60)
    moved_in = PointsEntry.objects.filter(account=ours, kind=Kind.ADJUST)
    assert sorted(moved_in.values_list("points", flat=True)) == [30, 30]
    assert merge.moved["loyalty.PointsAccount.customer"]["points_moved"] == 60
    assert ledger_discrepancies() == []


def test_an_account_only_the_duplicate_has_simply_moves(supervisor, pair):
    survivor, duplicate = pair
    theirs = account_of(duplicate, ProgramFactory(code="shop"))
    earn(theirs, 70, "d1", date(2027, 1, 1))

    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)

    theirs.refresh_from_db()
    assert theirs.customer_id == survivor.pk
    assert theirs.balance == 70
    assert ledger_discrepancies() == []


def test_a_negative_balance_moves_as_a_debt(supervisor, pair):
    survivor, duplicate = pair
    program = ProgramFactory(code="bank")
    ours, theirs = account_of(survivor, program), account_of(duplicate, program)
    earn(ours, 100, "s1", date(2027, 1, 1))
    earned = earn(theirs, 50, "d1", date(2027, 1, 1)).entry
    debit(account=theirs, kind=Kind.REDEEM, points=50, key="d-redeem")
    debit(
        account=theirs,
        kind=Kind.REVERSE,
        points=40,
        key="d-refund",
        reverses=earned,
        allow_negative=True,
    )

    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)

    assert PointsAccount.objects.get(pk=ours.pk).balance == 60
    assert PointsAccount.objects.get(pk=theirs.pk).balance == 0
    assert ledger_discrepancies() == []


def test_benefit_uses_of_both_count_up_to_the_quota(supervisor, pair):
    survivor, duplicate = pair
    benefit = Benefit.objects.create(
        tier=TierFactory(), code="checkup", name="Health check", quota=3
    )
    user = UserFactory()
    allowances = []
    for customer in pair:
        allowance = BenefitAllowance.objects.create(
            customer=customer,
            benefit=benefit,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            quota=3,
            used=2,
        )
        for number in range(2):
            BenefitUse.objects.create(
                allowance=allowance, key=f"{customer.pk}-{number}", used_by=user
            )
        allowances.append(allowance)

    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)

    kept = BenefitAllowance.objects.get()
    assert kept.pk == allowances[0].pk
    assert (kept.used, kept.quota) == (3, 3)
    assert kept.uses.count() == 4


def test_referrals_keep_the_paid_one_and_drop_one_between_the_two(supervisor, pair):
    survivor, duplicate = pair
    program = ProgramFactory(code="bank")
    referrer = CustomerFactory()
    account = account_of(referrer, program)
    paid = earn(account, 30, "commission", date(2027, 1, 1)).entry
    Referral.objects.create(program=program, referrer=CustomerFactory(), referred=survivor)
    theirs = Referral.objects.create(
        program=program, referrer=referrer, referred=duplicate, commission_entry=paid
    )
    other = ProgramFactory(code="shop")
    Referral.objects.create(program=other, referrer=duplicate, referred=survivor)

    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)

    assert list(Referral.objects.filter(referred=survivor, program=program)) == [theirs]
    assert not Referral.objects.filter(program=other).exists()
