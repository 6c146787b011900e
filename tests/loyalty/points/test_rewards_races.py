"""Races on PostgreSQL with real threads: stock, balance and quotas are never oversold."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from loyalty.models import BenefitAllowance, BenefitUse, PointsEntry, PointsLot, Redemption
from loyalty.services.benefits import benefit_use
from loyalty.services.rewards import reward_redeem
from tests.factories import CustomerFactory
from tests.loyalty.factories import member
from tests.loyalty.points.rewards_helpers import balance, bank, benefit, earn, reward

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks under real concurrency: PostgreSQL"
    ),
]


def run_at_once(count: int, work) -> list[str]:
    """`work(n)` in `count` threads released together; each outcome: "ok" or the error code."""
    barrier = threading.Barrier(count)

    def attempt(n: int) -> str:
        try:
            barrier.wait()
            work(n)
            return "ok"
        except ValidationError as error:
            return error.code or "invalid"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def test_twenty_redemptions_of_a_stock_of_five_succeed_five_times(rm):
    program = bank()
    customer = CustomerFactory(owner=rm)
    earn(customer, program, 10_000, key="e1")
    tea = reward(program, stock=5, points_price=100)
    actor = type(rm).objects.get(pk=rm.pk)

    outcomes = run_at_once(
        20, lambda n: reward_redeem(actor=actor, customer=customer, reward=tea, key=f"k{n}")
    )

    assert outcomes.count("ok") == 5
    assert outcomes.count("out_of_stock") == 15
    tea.refresh_from_db()
    assert tea.stock == 0
    assert Redemption.objects.count() == 5
    assert balance(customer, program) == 10_000 - 5 * 100
    assert PointsEntry.objects.aggregate(total=Sum("points"))["total"] == 9_500


def test_fifty_redemptions_of_ten_points_against_a_hundred_succeed_ten_times(rm):
    program = bank()
    customer = CustomerFactory(owner=rm)
    earn(customer, program, 60, key="e1", expires_on=date(2098, 1, 1))
    earn(customer, program, 40, key="e2", expires_on=date(2099, 1, 1))
    pen = reward(program, stock=None, points_price=10)
    actor = type(rm).objects.get(pk=rm.pk)

    outcomes = run_at_once(
        50, lambda n: reward_redeem(actor=actor, customer=customer, reward=pen, key=f"k{n}")
    )

    assert outcomes.count("ok") == 10
    assert outcomes.count("insufficient_points") == 40
    assert balance(customer, program) == 0
    assert PointsEntry.objects.aggregate(total=Sum("points"))["total"] == 0
    assert Redemption.objects.count() == 10
    assert sum(PointsLot.objects.values_list("remaining", flat=True)) == 0


def test_the_same_redeem_key_twenty_times_at_once_redeems_once(rm):
    program = bank()
    customer = CustomerFactory(owner=rm)
    earn(customer, program, 1_000, key="e1")
    tea = reward(program, stock=5, points_price=100)
    actor = type(rm).objects.get(pk=rm.pk)
    redemption_ids: list[int] = []

    def redeem(_n: int) -> None:
        redemption_ids.append(
            reward_redeem(actor=actor, customer=customer, reward=tea, key="same").pk
        )

    outcomes = run_at_once(20, redeem)

    assert outcomes == ["ok"] * 20
    assert len(set(redemption_ids)) == 1
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.REDEEM).count() == 1
    tea.refresh_from_db()
    assert tea.stock == 4
    assert balance(customer, program) == 900


def test_ten_uses_of_a_quota_of_three_succeed_three_times(rm):
    program = bank()
    customer = CustomerFactory(owner=rm)
    checks = benefit(program, rank=2, quota=3)
    member(customer, program, 2)
    actor = type(rm).objects.get(pk=rm.pk)

    outcomes = run_at_once(
        10, lambda n: benefit_use(actor=actor, customer=customer, benefit=checks, key=f"u{n}")
    )

    assert outcomes.count("ok") == 3
    assert outcomes.count("over_quota") == 7
    assert BenefitAllowance.objects.get().used == 3
    assert BenefitUse.objects.count() == 3
