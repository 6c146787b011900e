"""Redeeming and cancelling: balance, stock, validity, tiers, keys, and what cancel gives back."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db.models import Sum

from loyalty.models import PointsAllocation, PointsEntry, PointsLot, Redemption
from loyalty.services.ledger import InsufficientPoints, KeyReused
from loyalty.services.rewards import (
    NotVisible,
    OutOfStock,
    RewardNotAvailable,
    TierTooLow,
    redemption_cancel,
    reward_redeem,
)
from tests.factories import CustomerFactory, UserFactory
from tests.loyalty.factories import member
from tests.loyalty.points.rewards_helpers import balance, bank, earn, reward

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind


@pytest.fixture
def program():
    return bank()


@pytest.fixture
def customer(rm):
    return CustomerFactory(owner=rm)


def entries_sum(customer, program) -> int:
    return (
        PointsEntry.objects.filter(account__customer=customer, account__program=program).aggregate(
            total=Sum("points")
        )["total"]
        or 0
    )


def test_redeem_takes_points_and_one_unit_of_stock(rm, customer, program):
    earn(customer, program, 250, key="e1")
    tea = reward(program, stock=3, points_price=100)

    redemption = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    tea.refresh_from_db()
    assert tea.stock == 2
    assert balance(customer, program) == entries_sum(customer, program) == 150
    assert redemption.status == Redemption.Status.COMPLETED
    assert redemption.points == 100
    assert redemption.entry.kind == Kind.REDEEM
    assert redemption.entry.points == -100
    assert redemption.entry.key == "redeem:k1"
    assert redemption.created_by == rm


def test_unlimited_stock_stays_unlimited(rm, customer, program):
    earn(customer, program, 100, key="e1")
    tea = reward(program, stock=None)

    reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    tea.refresh_from_db()
    assert tea.stock is None


def test_the_same_key_redeems_once(rm, customer, program):
    earn(customer, program, 500, key="e1")
    tea = reward(program, stock=5)

    first = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")
    second = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    assert second.pk == first.pk
    assert Redemption.objects.count() == 1
    assert balance(customer, program) == 400
    tea.refresh_from_db()
    assert tea.stock == 4


def test_a_retry_answers_the_same_even_once_the_reward_is_gone(rm, customer, program):
    earn(customer, program, 500, key="e1")
    tea = reward(program, stock=1)
    first = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")
    tea.is_active = False
    tea.save()

    assert reward_redeem(actor=rm, customer=customer, reward=tea, key="k1").pk == first.pk


def test_the_same_key_for_another_reward_is_refused(rm, customer, program):
    earn(customer, program, 500, key="e1")
    reward_redeem(actor=rm, customer=customer, reward=reward(program), key="k1")

    with pytest.raises(KeyReused):
        reward_redeem(actor=rm, customer=customer, reward=reward(program, name="Pen"), key="k1")
    assert Redemption.objects.count() == 1


def test_not_enough_points_changes_nothing(rm, customer, program):
    earn(customer, program, 99, key="e1")
    tea = reward(program, stock=2, points_price=100)

    with pytest.raises(InsufficientPoints) as error:
        reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    assert error.value.code == "insufficient_points"
    tea.refresh_from_db()
    assert tea.stock == 2
    assert balance(customer, program) == 99
    assert not Redemption.objects.exists()


def test_a_customer_without_points_cannot_redeem(rm, customer, program):
    with pytest.raises(InsufficientPoints):
        reward_redeem(actor=rm, customer=customer, reward=reward(program), key="k1")


def test_out_of_stock_rolls_the_debit_back(rm, customer, program):
    earn(customer, program, 300, key="e1")
    tea = reward(program, stock=0)

    with pytest.raises(OutOfStock) as error:
        reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    assert error.value.code == "out_of_stock"
    assert balance(customer, program) == entries_sum(customer, program) == 300
    assert not PointsEntry.objects.filter(kind=Kind.REDEEM).exists()
    assert PointsLot.objects.get().remaining == 300
    assert not PointsAllocation.objects.exists()


@pytest.mark.parametrize(
    ("fields", "today"),
    [
        ({"is_active": False}, date(2026, 3, 1)),
        ({"valid_from": date(2026, 3, 2)}, date(2026, 3, 1)),
        ({"valid_until": date(2026, 2, 28)}, date(2026, 3, 1)),
    ],
)
def test_an_inactive_or_out_of_date_reward_is_refused(rm, customer, program, fields, today):
    earn(customer, program, 300, key="e1")
    tea = reward(program, **fields)

    with (
        time_machine.travel(today.isoformat() + " 12:00 +08:00", tick=False),
        pytest.raises(RewardNotAvailable) as error,
    ):
        reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    assert error.value.code == "reward_not_available"
    assert balance(customer, program) == 300


def test_validity_days_are_inclusive(rm, customer, program):
    earn(customer, program, 300, key="e1")
    tea = reward(program, valid_from=date(2026, 3, 1), valid_until=date(2026, 3, 1))

    with time_machine.travel("2026-03-01 23:30 +08:00", tick=False):
        reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    assert balance(customer, program) == 200


def test_an_inactive_program_offers_nothing(rm, customer, program):
    earn(customer, program, 300, key="e1")
    tea = reward(program)
    program.is_active = False
    program.save()

    with pytest.raises(RewardNotAvailable):
        reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")


def test_a_tier_restricted_reward_needs_the_tier(rm, customer, program):
    earn(customer, program, 300, key="e1")
    gold_only = reward(program, min_tier=program.tiers.get(rank=3))
    member(customer, program, 2)

    with pytest.raises(TierTooLow) as error:
        reward_redeem(actor=rm, customer=customer, reward=gold_only, key="k1")

    assert error.value.code == "tier_too_low"
    assert balance(customer, program) == 300


def test_a_higher_tier_may_redeem_a_tier_restricted_reward(rm, customer, program):
    earn(customer, program, 300, key="e1")
    silver_up = reward(program, min_tier=program.tiers.get(rank=2))
    member(customer, program, 3)

    reward_redeem(actor=rm, customer=customer, reward=silver_up, key="k1")

    assert balance(customer, program) == 200


def test_without_membership_the_customer_is_at_the_base_tier(rm, customer, program):
    earn(customer, program, 300, key="e1")
    base = reward(program, min_tier=program.tiers.get(rank=1))
    silver_up = reward(program, min_tier=program.tiers.get(rank=2))

    reward_redeem(actor=rm, customer=customer, reward=base, key="k1")
    with pytest.raises(TierTooLow):
        reward_redeem(actor=rm, customer=customer, reward=silver_up, key="k2")


def test_another_rms_customer_cannot_be_redeemed_for(foreign_rm, customer, program):
    earn(customer, program, 300, key="e1")

    with pytest.raises(NotVisible):
        reward_redeem(actor=foreign_rm, customer=customer, reward=reward(program), key="k1")
    assert balance(customer, program) == 300


def test_a_user_without_the_permission_cannot_redeem(customer, program):
    earn(customer, program, 300, key="e1")
    with pytest.raises(PermissionDenied):
        reward_redeem(actor=UserFactory(), customer=customer, reward=reward(program), key="k1")


def test_cancel_gives_points_and_stock_back(rm, customer, program):
    earn(customer, program, 150, key="e1", expires_on=date(2099, 5, 1))
    tea = reward(program, stock=3, points_price=100)
    redemption = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    cancelled = redemption_cancel(actor=rm, redemption=redemption, key="c1")

    tea.refresh_from_db()
    assert tea.stock == 3
    assert balance(customer, program) == entries_sum(customer, program) == 150
    assert cancelled.status == Redemption.Status.CANCELLED
    assert cancelled.cancelled_by == rm
    reversal = cancelled.cancel_entry
    assert reversal.kind == Kind.REVERSE
    assert reversal.points == 100
    assert reversal.reverses_id == redemption.entry_id
    assert reversal.key == f"cancel:{redemption.pk}"
    assert reversal.expires_on == date(2099, 5, 1)
    assert sum(PointsLot.objects.values_list("remaining", flat=True)) == 150


def test_cancel_twice_changes_nothing_the_second_time(rm, customer, program):
    earn(customer, program, 150, key="e1")
    tea = reward(program, stock=3)
    redemption = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")
    first = redemption_cancel(actor=rm, redemption=redemption, key="c1")

    second = redemption_cancel(actor=rm, redemption=redemption, key="c2")

    assert second.pk == first.pk
    assert second.cancel_entry_id == first.cancel_entry_id
    assert PointsEntry.objects.filter(kind=Kind.REVERSE).count() == 1
    tea.refresh_from_db()
    assert tea.stock == 3
    assert balance(customer, program) == 150


def test_cancelled_points_keep_the_earliest_expiry_they_had(rm, customer, program):
    earn(customer, program, 60, key="early", expires_on=date(2098, 1, 1))
    earn(customer, program, 100, key="late", expires_on=date(2099, 1, 1))
    redemption = reward_redeem(
        actor=rm, customer=customer, reward=reward(program, points_price=100), key="k1"
    )

    cancelled = redemption_cancel(actor=rm, redemption=redemption)

    assert cancelled.cancel_entry.expires_on == date(2098, 1, 1)
    assert PointsLot.objects.get(entry=cancelled.cancel_entry).expires_on == date(2098, 1, 1)


def test_unlimited_stock_stays_unlimited_on_cancel(rm, customer, program):
    earn(customer, program, 100, key="e1")
    tea = reward(program, stock=None)
    redemption = reward_redeem(actor=rm, customer=customer, reward=tea, key="k1")

    redemption_cancel(actor=rm, redemption=redemption)

    tea.refresh_from_db()
    assert tea.stock is None


def test_another_rm_cannot_cancel(rm, foreign_rm, customer, program):
    earn(customer, program, 100, key="e1")
    redemption = reward_redeem(actor=rm, customer=customer, reward=reward(program), key="k1")

    with pytest.raises(NotVisible):
        redemption_cancel(actor=foreign_rm, redemption=redemption)
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.COMPLETED


def test_the_supervisor_of_the_team_may_redeem_and_cancel(supervisor, customer, program):
    earn(customer, program, 100, key="e1")
    redemption = reward_redeem(
        actor=supervisor, customer=customer, reward=reward(program), key="k1"
    )

    redemption_cancel(actor=supervisor, redemption=redemption)

    assert balance(customer, program) == 100
