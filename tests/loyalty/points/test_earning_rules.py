"""Each earning rule alone and combined, validity dates, the daily cap, earning once."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from crm.models import Transaction
from loyalty.models import PointsEntry
from loyalty.services.earning import transactions_earn
from tests.factories import CustomerFactory
from tests.loyalty.factories import member
from tests.loyalty.points.earning_helpers import (
    FRIDAY,
    Kind,
    at,
    balance,
    bank,
    base,
    earned,
    purchase,
    rule,
    tier,
)

pytestmark = pytest.mark.django_db
DINING = Transaction.Category.DINING


@pytest.fixture
def program():
    return bank()


@pytest.fixture
def customer():
    return CustomerFactory()


def test_base_rate_earns_floor_of_amount_times_rate(program, customer):
    base(program, "1")
    purchase(customer, "99.00", earn=False)  # an earlier purchase: no first order anyway
    made = purchase(customer, "128.50")

    assert earned(made, program) == 128
    entry = PointsEntry.objects.get(key=f"earn:{program.pk}:{made.pk}")
    assert entry.occurred_on == date(2026, 3, 10)
    assert entry.expires_on == date(2028, 3, 10)  # 24 months, the program's default
    assert entry.transaction_id == made.pk
    assert entry.details["rule_points"] == 128
    assert balance(customer, program) == 128


def test_no_base_rule_for_the_kind_earns_nothing(program, customer):
    base(program, "1")
    made = purchase(customer, "500.00", kind=Transaction.Kind.DEPOSIT)

    assert earned(made, program) == 0
    assert balance(customer, program) == 0


def test_a_base_rule_naming_a_source_applies_to_that_source_first(program, customer):
    base(program, "1")
    base(program, "2", source="pos")
    from_pos = purchase(customer, "10.00", source="pos")
    from_shop = purchase(customer, "10.00", source="shop")

    assert earned(from_pos, program) == 20
    assert earned(from_shop, program) == 10


def test_category_multiplier(program, customer):
    base(program, "1")
    rule(program, Kind.CATEGORY, category=DINING, multiplier=Decimal("2"))
    dining = purchase(customer, "128.50", category=DINING)
    other = purchase(customer, "128.50")

    assert earned(dining, program) == 257
    assert earned(other, program) == 128


def test_time_window_multiplier_includes_the_start_and_excludes_the_end(program, customer):
    base(program, "1")
    rule(
        program,
        Kind.TIME_WINDOW,
        weekday=4,
        starts_at=time(12),
        ends_at=time(18),
        multiplier=Decimal("1.15"),
    )
    at_noon = purchase(customer, "100.00", when=at(FRIDAY, 12))
    at_six = purchase(customer, "100.00", when=at(FRIDAY, 18))
    thursday_noon = purchase(customer, "100.00", when=at(FRIDAY - timedelta(days=1), 12))

    assert earned(at_noon, program) == 115  # exactly 115 on both databases, not 114
    assert earned(at_six, program) == 100
    assert earned(thursday_noon, program) == 100


def test_tier_multiplier_uses_the_current_membership(program, customer):
    base(program, "1")
    gold = tier(program, 3)
    tier(program, 4)
    rule(program, Kind.TIER, tier=gold, multiplier=Decimal("1.2"))
    member(customer, program, 3)
    newcomer = CustomerFactory()

    assert earned(purchase(customer, "100.00"), program) == 120
    assert earned(purchase(newcomer, "100.00"), program) == 100


def test_first_order_multiplier_only_for_the_first_purchase_ever(program, customer):
    base(program, "1")
    rule(program, Kind.FIRST_ORDER, multiplier=Decimal("3"))
    first = purchase(customer, "100.00", when=at(date(2026, 3, 10)))
    second = purchase(customer, "100.00", when=at(date(2026, 3, 11)))

    assert earned(first, program) == 300
    assert earned(second, program) == 100


def test_first_order_in_one_batch_is_the_earliest(program, customer):
    base(program, "1")
    rule(program, Kind.FIRST_ORDER, multiplier=Decimal("3"))
    later = purchase(customer, "100.00", when=at(date(2026, 3, 11)), earn=False)
    first = purchase(customer, "100.00", when=at(date(2026, 3, 10)), earn=False)
    transactions_earn(transaction_ids=[later.pk, first.pk])

    assert (earned(first, program), earned(later, program)) == (300, 100)


def test_bonus_applies_at_the_minimum_amount_even_without_a_base_rule(program, customer):
    rule(
        program,
        Kind.BONUS,
        transaction_kind=Transaction.Kind.CARD_REPAYMENT,
        min_amount=Decimal("5000"),
        points=500,
    )
    repaid = purchase(customer, "5000.00", kind=Transaction.Kind.CARD_REPAYMENT)
    small = purchase(customer, "4999.99", kind=Transaction.Kind.CARD_REPAYMENT)

    assert earned(repaid, program) == 500
    assert earned(small, program) == 0


def test_rules_combine_multiplying_then_rounding_down_then_adding_bonuses(program, customer):
    base(program, "1")
    rule(program, Kind.CATEGORY, category=DINING, multiplier=Decimal("2"))
    rule(
        program,
        Kind.TIME_WINDOW,
        weekday=4,
        starts_at=time(12),
        ends_at=time(18),
        multiplier=Decimal("1.15"),
    )
    gold = tier(program, 3)
    rule(program, Kind.TIER, tier=gold, multiplier=Decimal("1.5"))
    rule(program, Kind.BONUS, min_amount=Decimal("100"), points=10)
    member(customer, program, 3)
    purchase(customer, "1.00", when=at(date(2026, 1, 1)))  # not the first order
    made = purchase(customer, "128.50", category=DINING, when=at(FRIDAY, 15))

    # 128.50 x 2 x 1.15 x 1.5 = 443.325 -> 443, + 10
    assert earned(made, program) == 453


def test_rules_apply_only_on_the_days_they_are_valid(program, customer):
    base(program, "1")
    rule(
        program,
        Kind.CATEGORY,
        category=DINING,
        multiplier=Decimal("2"),
        valid_from=date(2026, 3, 10),
        valid_until=date(2026, 3, 11),
    )
    before = purchase(customer, "100.00", category=DINING, when=at(date(2026, 3, 9), 23, 59))
    first_day = purchase(customer, "100.00", category=DINING, when=at(date(2026, 3, 10), 0, 0))
    last_day = purchase(customer, "100.00", category=DINING, when=at(date(2026, 3, 11), 23, 59))
    after = purchase(customer, "100.00", category=DINING, when=at(date(2026, 3, 12), 0, 0))

    assert [earned(t, program) for t in (before, first_day, last_day, after)] == [
        100,
        200,
        200,
        100,
    ]


def test_inactive_rules_earn_nothing(program, customer):
    base(program, "1", is_active=False)

    assert earned(purchase(customer, "100.00"), program) == 0


def test_daily_cap_across_two_batches_and_a_new_day(program, customer):
    base(program, "1")
    rule(program, Kind.DAILY_CAP, points=1000)
    day = date(2026, 3, 10)
    one = purchase(customer, "600.00", when=at(day, 9), earn=False)
    two = purchase(customer, "300.00", when=at(day, 10), earn=False)
    transactions_earn(transaction_ids=[two.pk, one.pk])
    three = purchase(customer, "300.00", when=at(day, 11))
    four = purchase(customer, "300.00", when=at(day, 12))
    next_day = purchase(customer, "300.00", when=at(day + timedelta(days=1), 0))

    assert [earned(t, program) for t in (one, two, three, four, next_day)] == [
        600,
        300,
        100,
        0,
        300,
    ]
    assert balance(customer, program) == 1300


def test_a_transaction_sent_again_earns_once(program, customer):
    base(program, "1")
    made = purchase(customer, "100.00")
    transactions_earn(transaction_ids=[made.pk])
    transactions_earn(transaction_ids=[made.pk])

    assert PointsEntry.objects.filter(transaction=made).count() == 1
    assert balance(customer, program) == 100


def test_each_program_earns_by_its_own_rules(program, customer):
    shop = bank(code="shop")
    base(program, "1")
    base(shop, "0.5")
    made = purchase(customer, "100.00")

    assert (earned(made, program), earned(made, shop)) == (100, 50)


def test_earning_pays_off_a_negative_balance_before_opening_a_lot(program, customer):
    from loyalty.services.ledger import account_get_or_create, debit

    base(program, "1")
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    debit(
        account=account,
        kind=PointsEntry.Kind.ADJUST,
        points=30,
        key="minus",
        allow_negative=True,
    )
    made = purchase(customer, "100.00")

    assert balance(customer, program) == 70
    assert PointsEntry.objects.get(transaction=made).lot.initial == 70
