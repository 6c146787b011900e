"""The value of 1,000 points in the catalogue per year, from the rewards' history."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from loyalty.models import Reward
from loyalty.reports import points_buying_power
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 7, 15)


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=SHANGHAI), tick=False)


def reward(program, price, value, **fields):
    return Reward.objects.create(
        program=program, name="Reward", points_price=price, value=Decimal(value), **fields
    )


def change(item, **fields):
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()


def figures(item):
    return [
        (year.year, year.rewards, year.value, year.change, year.is_warning) for year in item.years
    ]


def test_a_price_rise_that_costs_more_than_5_percent_is_a_warning():
    program = ProgramFactory(code="bank")
    with at(2024, 3, 1, 10):
        cinema = reward(program, 1000, "10.00")  # 1,000 points buy 10.00
        spa = reward(program, 2000, "30.00")  # 15.00
        # Never counts: valid only in 2023; inactive.
        reward(program, 500, "10.00", valid_from=date(2023, 1, 1), valid_until=date(2023, 12, 31))
        reward(program, 100, "50.00", is_active=False)
    with at(2025, 5, 1, 10):
        change(cinema, points_price=1250)  # 8.00
    with at(2026, 1, 1, 0, 30):  # already 2026 in Shanghai (still 2025 in UTC)
        change(spa, value=Decimal("31.00"))  # 15.50

    (item,) = points_buying_power(today=TODAY)

    assert figures(item) == [
        (2024, 2, Decimal("12.50"), None, False),
        (2025, 2, Decimal("11.50"), Decimal("-0.0800"), True),
        (2026, 2, Decimal("11.75"), Decimal("0.0217"), False),
    ]
    assert item.warnings == 1
    assert item.years[1].change_percent == Decimal("-8.00")


def test_exactly_5_percent_less_is_no_warning_and_a_cent_more_is():
    program = ProgramFactory(code="bank")
    other = ProgramFactory(code="shop")
    with at(2025, 3, 1, 10):
        bank_reward = reward(program, 1000, "10.00")
        shop_reward = reward(other, 1000, "10.00")
    with at(2026, 2, 1, 10):
        change(bank_reward, value=Decimal("9.50"))
        change(shop_reward, value=Decimal("9.49"))

    bank, shop = points_buying_power(today=TODAY)

    assert [(year.value, year.is_warning) for year in bank.years] == [
        (Decimal("10.00"), False),
        (Decimal("9.50"), False),
    ]
    assert [(year.value, year.is_warning) for year in shop.years] == [
        (Decimal("10.00"), False),
        (Decimal("9.49"), True),
    ]


def test_rewards_count_in_the_years_they_were_valid_and_not_after_deletion():
    program = ProgramFactory(code="bank")
    with at(2023, 6, 1, 10):
        reward(program, 1000, "10.00")  # 10.00 every year
        summer = reward(
            program, 1000, "20.00", valid_from=date(2024, 6, 1), valid_until=date(2024, 8, 31)
        )
        gone = reward(program, 1000, "40.00")
    with at(2024, 12, 31, 23, 30):  # still 2024
        gone.delete()
    with at(2025, 3, 1, 10):
        change(summer, name="Summer (over)")

    (item,) = points_buying_power(today=TODAY)

    assert figures(item) == [
        (2023, 2, Decimal("25.00"), None, False),
        (2024, 2, Decimal("15.00"), Decimal("-0.4000"), True),
        (2025, 1, Decimal("10.00"), Decimal("-0.3333"), True),
        (2026, 1, Decimal("10.00"), Decimal("0.0000"), False),
    ]


def test_this_year_uses_the_rewards_as_they_are_today():
    program = ProgramFactory(code="bank")
    with at(2025, 3, 1, 10):
        item = reward(program, 1000, "10.00")
    # A change without a history row (a bulk update) still shows in this year's figure.
    Reward.objects.filter(pk=item.pk).update(value=Decimal("12.00"))

    (report,) = points_buying_power(today=TODAY)

    assert [year.value for year in report.years] == [Decimal("10.00"), Decimal("12.00")]


def test_a_program_without_rewards_has_this_year_only_and_no_figure():
    ProgramFactory(code="bank")

    (item,) = points_buying_power(today=TODAY)

    assert figures(item) == [(2026, 0, None, None, False)]


def test_buying_power_takes_three_queries(django_assert_num_queries):
    program = ProgramFactory(code="bank")
    with at(2024, 3, 1, 10):
        for price in (100, 200, 300):
            reward(program, price, "5.00")
    # programs, the rewards' history, the rewards today
    with django_assert_num_queries(3):
        points_buying_power(today=TODAY)
