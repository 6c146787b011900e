"""Evaluation with upgrades: thresholds, any-group/all-conditions, idempotence, resume."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from loyalty.models import EvaluationRun, Membership, MembershipChange
from loyalty.services import evaluation
from loyalty.services.evaluation import customer_evaluate, program_evaluate
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import (
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

# The run row and its lock, the rules (3), the scratch table (drop, create as select, count,
# drop), the writes (join 2, move, record, close warnings 5, month 2, open warnings), the final
# save; PostgreSQL also ANALYZEs the scratch table.
QUERIES_FOR_A_MONTHLY_RUN = 29 + (connection.vendor == "postgresql")


@pytest.fixture
def as_of():
    return timezone.localdate()


@pytest.fixture
def program(db):
    """Base (1★, everyone); gold (3★): card spend >= 30,000 OR (spend >= 8,000 AND >= 3
    orders); platinum (4★): spend >= 100,000."""
    program = ProgramFactory(code="bank")
    base = TierFactory(program=program, rank=1, name="Member")
    CriterionGroupFactory(tier=base, name="everyone")
    gold = TierFactory(program=program, rank=3, name="Gold")
    ConditionFactory(group=CriterionGroupFactory(tier=gold, name="card spend"))
    shop = CriterionGroupFactory(tier=gold, name="shop")
    ConditionFactory(group=shop, threshold=Decimal("8000"), parameters={})
    ConditionFactory(group=shop, metric="orders", threshold=Decimal("3"), parameters={})
    platinum = TierFactory(program=program, rank=4, name="Platinum")
    ConditionFactory(
        group=CriterionGroupFactory(tier=platinum, name="big spend"),
        threshold=Decimal("100000"),
        parameters={},
    )
    return program


def spend(customer, amount: str, *, days_ago: int = 5, **kwargs):
    day = timezone.localdate() - timedelta(days=days_ago)
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        occurred_at=timezone.make_aware(datetime.combine(day, time(12))),
        **kwargs,
    )


def rank_of(customer, program) -> int:
    return (
        Membership.objects.select_related("tier").get(customer=customer, program=program).tier.rank
    )


def test_upgrade_at_exactly_the_threshold_and_not_one_cent_below(program, as_of):
    at_threshold, one_cent_below = CustomerFactory(), CustomerFactory()
    spend(at_threshold, "30000.00", payment_method="card")
    spend(one_cent_below, "29999.99", payment_method="card")

    run = program_evaluate(program_id=program.pk, as_of=as_of)

    assert run.status == EvaluationRun.Status.DONE
    assert rank_of(at_threshold, program) == 3
    assert rank_of(one_cent_below, program) == 1
    change = MembershipChange.objects.get(customer=at_threshold)
    assert change.from_tier is None
    assert change.run == run
    assert change.reason["group"] == "card spend"
    [condition] = change.reason["conditions"]
    assert Decimal(condition.pop("value")) == Decimal("30000")
    assert condition == {
        "metric": "spend",
        "window_months": 12,
        "parameters": {"payment_method": "card"},
        "operator": ">=",
        "threshold": "30000.00",
    }


def test_any_group_holds_and_all_conditions_of_a_group_must_hold(program, as_of):
    both = CustomerFactory()  # the shop group: 8,000 and 3 orders, paid in cash
    for _ in range(3):
        spend(both, "3000", payment_method="cash")
    only_spend = CustomerFactory()  # 8,000 but 1 order: the shop group does not hold
    spend(only_spend, "9000", payment_method="cash")
    only_orders = CustomerFactory()
    for _ in range(3):
        spend(only_orders, "10", payment_method="cash")

    program_evaluate(program_id=program.pk, as_of=as_of)

    assert rank_of(both, program) == 3
    assert MembershipChange.objects.get(customer=both).reason["group"] == "shop"
    assert rank_of(only_spend, program) == 1
    assert rank_of(only_orders, program) == 1


def test_the_highest_tier_wins(program, as_of):
    customer = CustomerFactory()
    spend(customer, "100000", payment_method="card")
    program_evaluate(program_id=program.pk, as_of=as_of)
    assert rank_of(customer, program) == 4


def test_upgrade_records_from_and_to(program, as_of):
    customer = CustomerFactory()
    program_evaluate(program_id=program.pk, as_of=as_of)
    spend(customer, "30000", payment_method="card", days_ago=0)
    tomorrow = as_of + timedelta(days=1)
    run = program_evaluate(program_id=program.pk, as_of=tomorrow)

    assert rank_of(customer, program) == 3
    change = MembershipChange.objects.filter(customer=customer).order_by("-id").first()
    assert (change.from_tier.rank, change.to_tier.rank, change.run) == (1, 3, run)
    assert Membership.objects.get(customer=customer).since == tomorrow
    assert (run.upgrades, run.memberships_created) == (1, 0)


def test_no_downgrade_in_this_slice(program, as_of):
    """Downgrades come with the warning rule (a later slice): qualifying for less keeps the
    tier and writes no history."""
    customer = CustomerFactory()
    purchase = spend(customer, "30000", payment_method="card")
    program_evaluate(program_id=program.pk, as_of=as_of)
    assert rank_of(customer, program) == 3
    purchase.delete()

    program_evaluate(program_id=program.pk, as_of=as_of + timedelta(days=1))

    assert rank_of(customer, program) == 3
    assert MembershipChange.objects.filter(customer=customer).count() == 1


def test_two_runs_on_the_same_day_write_one_history_row(program, as_of):
    customer = CustomerFactory()
    spend(customer, "30000", payment_method="card")
    first = program_evaluate(program_id=program.pk, as_of=as_of)
    second = program_evaluate(program_id=program.pk, as_of=as_of)

    assert first.pk == second.pk
    assert EvaluationRun.objects.count() == 1
    assert MembershipChange.objects.filter(customer=customer).count() == 1


def test_a_run_that_failed_halfway_leaves_nothing_and_is_run_again(program, as_of, monkeypatch):
    customers = [CustomerFactory() for _ in range(5)]
    for customer in customers:
        spend(customer, "30000", payment_method="card")

    def dies_after_the_memberships(self):
        raise RuntimeError("worker lost")

    with monkeypatch.context() as patch:
        patch.setattr(evaluation._Writer, "close_warnings", dies_after_the_memberships)
        with pytest.raises(RuntimeError):
            program_evaluate(program_id=program.pk, as_of=as_of)
    run = EvaluationRun.objects.get()
    assert run.status == EvaluationRun.Status.FAILED
    assert "worker lost" in run.error
    assert not Membership.objects.exists()  # the memberships written before were rolled back
    assert not MembershipChange.objects.exists()

    run = program_evaluate(program_id=program.pk, as_of=as_of)

    assert run.status == EvaluationRun.Status.DONE
    assert run.memberships_created == 5
    assert Membership.objects.filter(tier__rank=3).count() == 5
    for customer in customers:
        assert MembershipChange.objects.filter(customer=customer).count() == 1


def test_a_run_left_running_is_run_again(program, as_of):
    EvaluationRun.objects.create(program=program, as_of=as_of)  # its worker died
    customer = CustomerFactory()
    run = program_evaluate(program_id=program.pk, as_of=as_of)
    assert run.status == EvaluationRun.Status.DONE
    assert rank_of(customer, program) == 1


@pytest.mark.parametrize("customers", [5, 50])
def test_query_count_does_not_grow_with_customers(
    program, as_of, customers, django_assert_num_queries
):
    for index in range(customers):
        customer = CustomerFactory()
        spend(customer, "30000" if index % 2 else "10", payment_method="card")
    # The same statements whatever the number of customers (see test_evaluation_queries).
    with django_assert_num_queries(QUERIES_FOR_A_MONTHLY_RUN):
        program_evaluate(program_id=program.pk, as_of=as_of)
    assert Membership.objects.count() == customers


def test_evaluate_one_customer_now_records_the_user(program, as_of, supervisor):
    customer = CustomerFactory()
    other = CustomerFactory()
    program_evaluate(program_id=program.pk, as_of=as_of)
    spend(customer, "30000", payment_method="card", days_ago=0)
    spend(other, "30000", payment_method="card", days_ago=0)
    tomorrow = as_of + timedelta(days=1)

    change = customer_evaluate(
        program_id=program.pk, customer_id=customer.pk, actor=supervisor, as_of=tomorrow
    )

    assert change is not None
    assert (change.from_tier.rank, change.to_tier.rank) == (1, 3)
    assert change.changed_by == supervisor
    assert change.run is None
    assert rank_of(customer, program) == 3
    assert rank_of(other, program) == 1  # only the one customer
    assert (
        customer_evaluate(
            program_id=program.pk, customer_id=customer.pk, actor=supervisor, as_of=tomorrow
        )
        is None
    )


@pytest.mark.parametrize("with_tier", [False, True])
def test_a_program_without_criteria_evaluates_to_nothing(as_of, with_tier):
    """A program a supervisor has only started to set up: no tier, or a tier without groups."""
    program = ProgramFactory(code="draft")
    if with_tier:
        TierFactory(program=program, rank=1, name="Member")
    CustomerFactory()

    run = program_evaluate(program_id=program.pk, as_of=as_of)

    assert run.status == EvaluationRun.Status.DONE
    assert run.customers_evaluated == 1
    assert not Membership.objects.filter(program=program).exists()
