"""Liability by program and tier, debts apart, and when the points expire."""

from datetime import date
from decimal import Decimal

import pytest

from loyalty.reports import points_liability
from tests.factories import UserFactory
from tests.loyalty.points.reports_fixtures import liability_programs

pytestmark = pytest.mark.django_db
TODAY = date(2026, 7, 15)


@pytest.fixture
def everyone():
    return UserFactory(username="auditor", is_superuser=True)


def by_tier(item):
    return {
        (row.tier.name if row.tier else None): (row.accounts, row.points, row.value)
        for row in item.rows
    }


def schedule(item):
    return [
        ("overdue" if bucket.is_overdue else bucket.month, bucket.points, bucket.value)
        for bucket in item.expiry
        if bucket.points
    ]


def test_liability_is_counted_by_current_tier_at_the_programs_point_value(everyone):
    liability_programs()

    bank, shop = points_liability(user=everyone, today=TODAY)

    assert by_tier(bank) == {
        "Gold": (2, 1700, Decimal("34.00")),
        "Silver": (0, 0, Decimal("0.00")),
        "Member": (1, 700, Decimal("14.00")),
        None: (1, 50, Decimal("1.00")),
    }
    assert (bank.accounts, bank.points, bank.value) == (4, 2450, Decimal("49.00"))
    assert by_tier(shop)[None] == (1, 400, Decimal("4.00"))
    assert shop.value == Decimal("4.00")


def test_negative_balances_are_debts_reported_apart(everyone):
    liability_programs()

    bank, shop = points_liability(user=everyone, today=TODAY)

    assert (bank.negative_accounts, bank.negative_points) == (1, -80)
    assert bank.negative_value == Decimal("-1.60")
    assert (shop.negative_accounts, shop.negative_points) == (0, 0)


def test_the_expiry_schedule_sums_open_lots_by_month_with_overdue_and_later(everyone):
    liability_programs()

    bank, shop = points_liability(user=everyone, today=TODAY)

    assert schedule(bank) == [
        ("overdue", 50, Decimal("1.00")),
        (date(2026, 8, 1), 1200, Decimal("24.00")),
        (date(2027, 2, 1), 500, Decimal("10.00")),
        (None, 700, Decimal("14.00")),
    ]
    months = [bucket.month for bucket in bank.expiry if not bucket.is_overdue]
    assert months[0] == date(2026, 7, 1)
    assert months[11] == date(2027, 6, 1)
    assert months[12] is None  # later
    assert sum(bucket.points for bucket in bank.expiry) == bank.points
    assert schedule(shop) == [(date(2026, 7, 1), 400, Decimal("4.00"))]


def test_a_supervisor_sees_only_their_teams_customers(rm, supervisor, foreign_rm):
    liability_programs(owner=rm, foreign_owner=foreign_rm)

    bank, shop = points_liability(user=supervisor, today=TODAY)

    assert bank.points == 2450
    assert bank.negative_points == -80
    assert (shop.accounts, shop.points) == (0, 0)
    assert schedule(shop) == []


def test_liability_takes_four_queries_however_many_accounts(everyone, django_assert_num_queries):
    liability_programs()
    # programs, tiers, the accounts' GROUP BY, the open lots' GROUP BY
    with django_assert_num_queries(4):
        points_liability(user=everyone, today=TODAY)
