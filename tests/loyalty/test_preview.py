"""The rule-change preview and the threshold advice, on live data through the scratch table."""

from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loyalty.models import Condition, DowngradeWarning, Membership, MembershipChange
from loyalty.preview import TierMovement, rules_compare, rules_preview, threshold_for_share
from loyalty.rules import ProgramRules, condition_rule, with_thresholds
from loyalty.scratch import TABLE
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import (
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

# The savepoint, the scratch table (drop if exists, create as select), the GROUP BY, the drop and
# the savepoint's release; PostgreSQL also ANALYZEs the table.
QUERIES_FOR_A_PREVIEW = 6 + (connection.vendor == "postgresql")


@pytest.fixture
def as_of():
    return timezone.localdate()


@pytest.fixture
def program(db):
    """Base (1★, everyone); gold (3★): card spend >= 30,000; platinum (4★): spend >= 100,000."""
    program = ProgramFactory(code="bank")
    base = TierFactory(program=program, rank=1, name="Member")
    CriterionGroupFactory(tier=base, name="everyone")
    gold = TierFactory(program=program, rank=3, name="Gold")
    ConditionFactory(group=CriterionGroupFactory(tier=gold, name="card spend"))
    platinum = TierFactory(program=program, rank=4, name="Platinum")
    ConditionFactory(
        group=CriterionGroupFactory(tier=platinum, name="big spend"),
        threshold=Decimal("100000"),
        parameters={},
    )
    return program


@pytest.fixture
def gold_condition(program):
    return Condition.objects.get(group__tier__program=program, group__tier__rank=3)


def spend(customer, amount: str, *, days_ago: int = 5, payment_method: str = "card"):
    day = timezone.localdate() - timedelta(days=days_ago)
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        payment_method=payment_method,
        occurred_at=timezone.make_aware(datetime.combine(day, time(12))),
    )


def customer_at(program, rank: int, card_spend: str | None = None):
    """A member at the tier of `rank` today, with that much card spend."""
    customer = CustomerFactory()
    Membership.objects.create(
        customer=customer,
        program=program,
        tier=program.tiers.get(rank=rank),
        since=timezone.localdate() - timedelta(days=30),
    )
    if card_spend is not None:
        spend(customer, card_spend)
    return customer


def by_rank(movements: list[TierMovement]) -> dict[int, tuple[int, int, int]]:
    return {movement.rank: (movement.up, movement.down, movement.stay) for movement in movements}


def proposed(program, condition, threshold: str) -> ProgramRules:
    return with_thresholds(ProgramRules.load(program.pk), {condition.pk: Decimal(threshold)})


def test_raising_a_threshold_moves_the_customers_under_it_down(program, gold_condition, as_of):
    customer_at(program, 3, "35000")  # under the new 40,000
    customer_at(program, 3, "39999.99")  # one cent under
    customer_at(program, 3, "45000")
    customer_at(program, 1, "35000")  # qualifies for gold today, not with 40,000
    customer_at(program, 4, "150000")

    movements = rules_preview(
        program=program, rules=proposed(program, gold_condition, "40000"), as_of=as_of
    )

    assert by_rank(movements) == {
        4: (0, 0, 1),
        3: (0, 2, 1),
        1: (0, 0, 1),
        0: (0, 0, 0),
    }
    assert [movement.rank for movement in movements] == [4, 3, 1, 0]  # highest first
    gold = movements[1]
    assert (gold.name, gold.customers, gold.qualifying) == ("Gold", 3, 1)
    assert movements[2].qualifying == 3  # the base tier: the two who fell, and the one there


def test_lowering_a_threshold_moves_the_customers_over_it_up(program, gold_condition, as_of):
    customer_at(program, 1, "25000")
    customer_at(program, 1, "20000")  # exactly at the new threshold: qualifies
    customer_at(program, 1, "19999.99")
    customer_at(program, 1)  # no spend at all
    customer_at(program, 3, "30000")

    movements = rules_preview(
        program=program, rules=proposed(program, gold_condition, "20000"), as_of=as_of
    )

    assert by_rank(movements)[1] == (2, 0, 2)
    assert by_rank(movements)[3] == (0, 0, 1)
    assert {movement.rank: movement.qualifying for movement in movements} == {
        4: 0,
        3: 3,
        1: 2,
        0: 0,
    }


def test_a_customer_exactly_at_the_proposed_threshold_qualifies(program, gold_condition, as_of):
    customer_at(program, 3, "50000.00")

    at = rules_preview(
        program=program, rules=proposed(program, gold_condition, "50000"), as_of=as_of
    )
    above = rules_preview(
        program=program, rules=proposed(program, gold_condition, "50000.01"), as_of=as_of
    )

    assert by_rank(at)[3] == (0, 0, 1)
    assert by_rank(above)[3] == (0, 1, 0)


def test_customers_who_are_not_members_yet_are_counted_on_their_own_row(program, as_of):
    newcomer = CustomerFactory()
    spend(newcomer, "30000")
    CustomerFactory()

    movements = rules_preview(program=program, rules=ProgramRules.load(program.pk), as_of=as_of)

    not_members = movements[-1]
    assert (not_members.rank, not_members.customers, not_members.up) == (0, 2, 2)
    assert {movement.rank: movement.qualifying for movement in movements}[3] == 1


def test_compare_shows_the_saved_and_the_proposed_rules_side_by_side(
    program, gold_condition, as_of
):
    customer_at(program, 1, "25000")
    customer_at(program, 3, "30000")

    comparison = rules_compare(
        program=program, rules=proposed(program, gold_condition, "20000"), as_of=as_of
    )

    base = next(tier for tier in comparison if tier.rank == 1)
    assert (base.saved.up, base.saved.stay) == (0, 1)
    assert (base.proposed.up, base.proposed.stay) == (1, 0)
    gold = next(tier for tier in comparison if tier.rank == 3)
    assert (gold.saved.qualifying, gold.proposed.qualifying, gold.qualifying_change) == (1, 2, 1)


def test_a_preview_writes_nothing(program, gold_condition, as_of):
    customer_at(program, 3, "35000")
    CustomerFactory()

    rules_preview(program=program, rules=proposed(program, gold_condition, "90000"), as_of=as_of)

    assert Membership.objects.filter(tier__rank=3).count() == 1
    assert Membership.objects.count() == 1
    assert not MembershipChange.objects.exists()
    assert not DowngradeWarning.objects.exists()
    gold_condition.refresh_from_db()
    assert gold_condition.threshold == Decimal("30000.00")
    with connection.cursor() as cursor:
        assert TABLE not in connection.introspection.table_names(cursor)


@pytest.mark.parametrize("customers", [5, 50])
def test_preview_query_count_does_not_grow_with_customers(
    program, gold_condition, as_of, customers, django_assert_num_queries
):
    for index in range(customers):
        customer_at(program, 1 + 2 * (index % 2), "30000" if index % 3 else "10")
    rules = proposed(program, gold_condition, "25000")

    with django_assert_num_queries(QUERIES_FOR_A_PREVIEW):
        movements = rules_preview(program=program, rules=rules, as_of=as_of)

    assert sum(movement.customers for movement in movements) == customers


def test_threshold_for_share_returns_the_value_the_top_share_reaches(program, gold_condition):
    for amount in range(1000, 11000, 1000):  # ten customers: 1,000 .. 10,000
        spend(CustomerFactory(), str(amount))

    top_fifth = threshold_for_share(
        program=program, condition=condition_rule(gold_condition), share=Decimal("0.20")
    )
    top_quarter = threshold_for_share(
        program=program, condition=condition_rule(gold_condition), share=Decimal("0.25")
    )

    assert top_fifth == Decimal("9000.00")  # the 2nd highest of ten
    assert top_quarter == Decimal("8000.00")  # ceil(2.5) = 3rd highest


def test_threshold_for_share_counts_customers_without_activity_with_zero(program, gold_condition):
    for amount in ("500", "400", "300"):
        spend(CustomerFactory(), amount)
    for _ in range(7):
        CustomerFactory()  # no spend
    spend(CustomerFactory(), "99999", payment_method="cash")  # not card spend: 0 here

    rule = condition_rule(gold_condition)
    assert threshold_for_share(program=program, condition=rule, share=Decimal("0.25")) == (
        Decimal("300.00")  # ceil(2.75) = 3rd of eleven
    )
    assert threshold_for_share(program=program, condition=rule, share=Decimal("0.50")) == (
        Decimal("0.00")
    )


def test_threshold_for_share_counts_an_at_most_condition_from_the_bottom(program, gold_condition):
    for amount in ("100", "200", "300", "400"):
        spend(CustomerFactory(), amount)
    at_most = replace(condition_rule(gold_condition), operator=Condition.Operator.LTE)
    less_than = replace(at_most, operator=Condition.Operator.LT)

    assert threshold_for_share(program=program, condition=at_most, share=Decimal("0.50")) == (
        Decimal("200.00")
    )
    # Strictly less than: a cent above, so that the two lowest still hold.
    assert threshold_for_share(program=program, condition=less_than, share=Decimal("0.50")) == (
        Decimal("200.01")
    )


def test_threshold_for_share_with_a_strict_operator_keeps_the_share_holding(
    program, gold_condition
):
    for amount in ("100", "200", "300", "400"):
        spend(CustomerFactory(), amount)
    more_than = replace(condition_rule(gold_condition), operator=Condition.Operator.GT)

    threshold = threshold_for_share(program=program, condition=more_than, share=Decimal("0.50"))

    assert threshold == Decimal("299.99")
    holding = [value for value in (100, 200, 300, 400) if Decimal(value) > threshold]
    assert holding == [300, 400]


def test_threshold_for_share_refuses_a_share_outside_zero_to_one(program, gold_condition):
    with pytest.raises(ValueError, match="share"):
        threshold_for_share(
            program=program, condition=condition_rule(gold_condition), share=Decimal(1)
        )


def test_compare_fills_one_scratch_table_when_only_thresholds_change(
    program, gold_condition, as_of
):
    customer_at(program, 1, "25000")

    with CaptureQueriesContext(connection) as queries:
        rules_compare(
            program=program, rules=proposed(program, gold_condition, "20000"), as_of=as_of
        )

    fills = [q for q in queries.captured_queries if q["sql"].startswith("CREATE TEMPORARY")]
    assert len(fills) == 1
