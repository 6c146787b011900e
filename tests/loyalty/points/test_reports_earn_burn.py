"""Earn and burn per program and local month."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from loyalty.models import PointsEntry
from loyalty.reports import points_earn_burn
from loyalty.reports.earn_burn import default_month_range
from tests.factories import UserFactory
from tests.loyalty.factories import ProgramFactory
from tests.loyalty.points.reports_fixtures import account, add, earn, spend

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind
SHANGHAI = ZoneInfo("Asia/Shanghai")
EXPIRY = date(2028, 1, 1)


@pytest.fixture
def everyone():
    return UserFactory(username="auditor", is_superuser=True)


def at(*args, tz=SHANGHAI):
    return time_machine.travel(datetime(*args, tzinfo=tz), tick=False)


def figures(item):
    return {
        f"{month.month:%Y-%m}": (
            month.earned,
            month.redeemed,
            month.cancelled,
            month.burned,
            month.expired,
            month.refunds,
            month.adjusted,
            month.net,
        )
        for month in item.months
    }


def post_a_quarter(points_account):
    """Dec 2025: 999 earned (outside the range). Jan 2026: 500 earned. Feb (local): 1,000
    earned just after midnight, redemptions of 300 (cancelled) and 200. Mar: a refund takes
    back 100 of the February earning, adjustments +40 and -10, 50 expire."""
    with at(2025, 12, 20, 12):
        earn(points_account, 999, "dec", expires_on=EXPIRY)
    with at(2026, 1, 15, 12):
        earn(points_account, 500, "jan", expires_on=EXPIRY)
    with at(2026, 1, 31, 17, 30, tz=ZoneInfo("UTC")):  # 1 February, 01:30 in Shanghai
        february = earn(points_account, 1000, "feb", expires_on=EXPIRY)
    with at(2026, 2, 10, 12):
        cancelled = spend(points_account, 300, "redeem-1")
        spend(points_account, 200, "redeem-2")
    with at(2026, 2, 12, 12):
        add(points_account, 300, "cancel-1", kind=Kind.REVERSE, reverses=cancelled)
    with at(2026, 3, 5, 12):
        spend(
            points_account,
            100,
            "refund-1",
            kind=Kind.REVERSE,
            allow_negative=True,
            first_lot_id=february.pk,
            reverses=february,
        )
        add(points_account, 40, "adj+", kind=Kind.ADJUST)
        spend(points_account, 10, "adj-", kind=Kind.ADJUST)
        spend(points_account, 50, "exp", kind=Kind.EXPIRE)


def test_months_are_local_and_burn_is_net_of_cancellations(everyone):
    program = ProgramFactory(code="bank")
    post_a_quarter(account(program))

    (item,) = points_earn_burn(user=everyone, first=date(2026, 1, 1), last=date(2026, 3, 1))

    #               earned redeemed cancelled burned expired refunds adjusted net
    assert figures(item) == {
        "2026-01": (500, 0, 0, 0, 0, 0, 0, 500),
        "2026-02": (1000, 500, 300, 200, 0, 0, 0, 800),
        "2026-03": (0, 0, 0, 0, 50, -100, 30, -120),
    }
    total = item.total
    assert (total.earned, total.burned, total.net) == (1500, 200, 1180)


def test_net_is_the_sum_of_the_entries(everyone):
    program = ProgramFactory(code="bank")
    points_account = account(program)
    post_a_quarter(points_account)

    (item,) = points_earn_burn(user=everyone, first=date(2025, 12, 1), last=date(2026, 4, 1))

    points_account.refresh_from_db()
    assert item.total.net == points_account.balance == 999 + 1180
    assert figures(item)["2026-04"] == (0,) * 8


def test_programs_are_apart_and_other_teams_are_not_counted(rm, supervisor, foreign_rm):
    bank, shop = ProgramFactory(code="bank"), ProgramFactory(code="shop")
    with at(2026, 5, 3, 12):
        earn(account(bank, owner=rm), 70, "mine", expires_on=EXPIRY)
        earn(account(shop, owner=rm), 20, "mine-shop", expires_on=EXPIRY)
        earn(account(bank, owner=foreign_rm), 5000, "theirs", expires_on=EXPIRY)

    bank_report, shop_report = points_earn_burn(
        user=supervisor, first=date(2026, 5, 1), last=date(2026, 5, 1)
    )

    assert figures(bank_report)["2026-05"][0] == 70
    assert figures(shop_report)["2026-05"][0] == 20


def test_the_default_range_is_the_last_twelve_months():
    assert default_month_range(date(2026, 7, 15)) == (date(2025, 8, 1), date(2026, 7, 1))


def test_earn_and_burn_takes_three_queries_whatever_the_range(everyone, django_assert_num_queries):
    program = ProgramFactory(code="bank")
    post_a_quarter(account(program))
    ProgramFactory(code="shop")
    # programs, entries by (program, month, kind), reversals by what they reverse
    with django_assert_num_queries(3):
        points_earn_burn(user=everyone, first=date(2021, 1, 1), last=date(2026, 7, 1))
