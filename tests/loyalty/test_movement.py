"""The rules of movement at their boundaries: warnings after 3 monthly evaluations under 50%,
recovery, the downgrade, grace periods and serious credit events.

The program has a one-month window so months go by quickly: silver (2★) needs spend >= 1,000
in the last month, gold (3★) >= 10,000; its warning ratio is 50%, so gold is "under" below
5,000. Monthly evaluations are each month's first run (here: on the 1st).
"""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import DowngradeWarning, EvaluationRun, GracePeriod, Membership
from loyalty.models import MembershipChange as Change
from loyalty.services.evaluation import customer_evaluate, program_evaluate
from tests.factories import CreditEventFactory, CustomerFactory, TransactionFactory, UserFactory
from tests.loyalty.factories import (
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    program = ProgramFactory(code="shop", credit_block_months=6)
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Member"))
    for rank, name, threshold in ((2, "Silver", "1000"), (3, "Gold", "10000")):
        ConditionFactory(
            group=CriterionGroupFactory(tier=TierFactory(program=program, rank=rank, name=name)),
            window_months=1,
            threshold=Decimal(threshold),
            parameters={},
        )
    return program


def local(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def new_customer():
    return CustomerFactory(created_at=local(date(2025, 1, 1)))


@pytest.fixture
def customer():
    return new_customer()


def spend(customer, amount: str, day: date):
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        occurred_at=local(day),
    )


def evaluate(program, day: date) -> EvaluationRun:
    return program_evaluate(program_id=program.pk, as_of=day)


def membership(customer, program) -> Membership:
    return Membership.objects.select_related("tier").get(customer=customer, program=program)


def rank(customer, program) -> int:
    return membership(customer, program).tier.rank


@pytest.fixture
def gold_since_january(program, customer):
    """Gold on 1 January 2026 (10,000 spent in December)."""
    spend(customer, "10000", date(2025, 12, 20))
    evaluate(program, date(2026, 1, 1))
    assert rank(customer, program) == 3
    return customer


def test_exactly_half_the_threshold_is_not_under_and_one_cent_less_is(program):
    at_half, below_half = new_customer(), new_customer()
    for customer in (at_half, below_half):
        spend(customer, "10000", date(2025, 12, 20))
    evaluate(program, date(2026, 1, 1))
    spend(at_half, "5000.00", date(2026, 1, 10))
    spend(below_half, "4999.99", date(2026, 1, 10))

    run = evaluate(program, date(2026, 2, 1))

    assert run.is_monthly
    assert membership(at_half, program).months_under_ratio == 0
    assert membership(below_half, program).months_under_ratio == 1


def test_two_months_under_half_open_no_warning_and_the_third_does(program, gold_since_january):
    customer = gold_since_january
    evaluate(program, date(2026, 2, 1))
    evaluate(program, date(2026, 3, 1))
    assert membership(customer, program).months_under_ratio == 2
    assert not DowngradeWarning.objects.exists()

    run = evaluate(program, date(2026, 4, 1))

    warning = DowngradeWarning.objects.get(customer=customer)
    assert warning.status == DowngradeWarning.Status.OPEN
    assert (warning.opened_on, warning.deadline) == (date(2026, 4, 1), date(2026, 5, 1))
    assert warning.tier.rank == 3
    assert run.warnings_opened == 1
    assert rank(customer, program) == 3  # a warning is not yet a downgrade


def test_only_the_months_first_run_counts(program, gold_since_january):
    customer = gold_since_january
    evaluate(program, date(2026, 2, 1))
    second_run = evaluate(program, date(2026, 2, 2))
    assert not second_run.is_monthly
    assert membership(customer, program).months_under_ratio == 1


@pytest.fixture
def warned_in_april(program, gold_since_january):
    for day in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        evaluate(program, day)
    return DowngradeWarning.objects.get(customer=gold_since_january)


def test_no_recovery_moves_down_one_tier_at_the_deadline(program, customer, warned_in_april):
    evaluate(program, date(2026, 4, 30))
    assert rank(customer, program) == 3  # the day before the deadline

    run = evaluate(program, date(2026, 5, 1))

    assert rank(customer, program) == 2  # one tier down, although it qualifies for none
    assert run.downgrades == 1
    change = Change.objects.filter(customer=customer).latest("id")
    assert (change.kind, change.from_tier.rank, change.to_tier.rank) == (
        Change.Kind.DOWNGRADE,
        3,
        2,
    )
    assert change.reason == {
        "rule": "warning",
        "warning_id": str(warned_in_april.pk),
        "deadline": "2026-05-01",
    }
    warned_in_april.refresh_from_db()
    assert warned_in_april.status == DowngradeWarning.Status.DOWNGRADED
    assert membership(customer, program).months_under_ratio == 0


def test_recovery_in_the_warning_month_closes_the_warning(program, customer, warned_in_april):
    spend(customer, "10000", date(2026, 4, 10))

    evaluate(program, date(2026, 4, 11))
    evaluate(program, date(2026, 5, 1))

    assert rank(customer, program) == 3
    warned_in_april.refresh_from_db()
    assert warned_in_april.status == DowngradeWarning.Status.RECOVERED
    assert warned_in_april.closed_on == date(2026, 4, 11)
    assert membership(customer, program).months_under_ratio == 0
    assert not Change.objects.filter(kind=Change.Kind.DOWNGRADE).exists()


def test_a_grace_period_crossing_the_deadline_blocks_the_downgrade(
    program, customer, warned_in_april
):
    rm, supervisor = UserFactory(), UserFactory()
    GracePeriod.objects.create(
        customer=customer,
        program=program,
        months=1,
        reason=GracePeriod.Reason.ILLNESS,
        requested_by=rm,
        decided_by=supervisor,
        status=GracePeriod.Status.APPROVED,
        starts_on=date(2026, 4, 20),
        ends_on=date(2026, 5, 20),
    )

    evaluate(program, date(2026, 5, 1))  # the deadline, inside the grace period
    assert rank(customer, program) == 3
    warned_in_april.refresh_from_db()
    assert warned_in_april.status == DowngradeWarning.Status.SUSPENDED
    assert membership(customer, program).months_under_ratio == 0

    evaluate(program, date(2026, 5, 20))  # the grace period is over: counting starts again
    evaluate(program, date(2026, 6, 1))
    assert rank(customer, program) == 3
    assert membership(customer, program).months_under_ratio == 1
    assert not DowngradeWarning.objects.filter(status=DowngradeWarning.Status.OPEN).exists()


def test_an_ended_grace_period_still_covers_its_days_on_a_rerun(program, customer, warned_in_april):
    """The end task may have run before a failed night is evaluated again."""
    GracePeriod.objects.create(
        customer=customer,
        program=program,
        months=1,
        reason=GracePeriod.Reason.ILLNESS,
        requested_by=UserFactory(),
        decided_by=UserFactory(),
        status=GracePeriod.Status.ENDED,
        starts_on=date(2026, 4, 20),
        ends_on=date(2026, 5, 20),
    )
    evaluate(program, date(2026, 5, 1))
    assert rank(customer, program) == 3


def test_a_pending_grace_period_blocks_nothing(program, customer, warned_in_april):
    GracePeriod.objects.create(
        customer=customer,
        program=program,
        months=1,
        reason=GracePeriod.Reason.ILLNESS,
        requested_by=UserFactory(),
    )
    evaluate(program, date(2026, 5, 1))
    assert rank(customer, program) == 2


def test_a_serious_credit_event_drops_to_base_and_blocks_requalification(
    program, gold_since_january
):
    customer = gold_since_january
    CreditEventFactory(
        customer=customer,
        severity="serious",
        occurred_at=local(date(2026, 1, 10), 9),
    )

    evaluate(program, date(2026, 1, 10))
    assert rank(customer, program) == 1
    change = Change.objects.filter(customer=customer).latest("id")
    assert (change.kind, change.from_tier.rank) == (Change.Kind.CREDIT_EVENT, 3)
    assert change.reason["rule"] == "credit_event"

    # Block of 6 months: the last blocked day is 9 July, requalification on 10 July.
    spend(customer, "10000", date(2026, 7, 5))
    evaluate(program, date(2026, 7, 9))
    assert rank(customer, program) == 1
    evaluate(program, date(2026, 7, 10))
    assert rank(customer, program) == 3


def test_a_minor_credit_event_changes_nothing(program, gold_since_january):
    CreditEventFactory(
        customer=gold_since_january,
        severity="minor",
        occurred_at=local(date(2026, 1, 10), 9),
    )
    evaluate(program, date(2026, 1, 11))
    assert rank(gold_since_january, program) == 3


def test_a_blocked_newcomer_joins_at_the_base_tier(program, customer):
    spend(customer, "10000", date(2025, 12, 20))
    CreditEventFactory(
        customer=customer,
        severity="serious",
        occurred_at=local(date(2025, 12, 1), 9),
    )
    evaluate(program, date(2026, 1, 1))
    assert rank(customer, program) == 1
    change = Change.objects.get(customer=customer)
    assert (change.kind, change.reason["rule"]) == (Change.Kind.JOINED, "credit_event")


def test_the_base_tier_never_gets_a_warning(program, customer):
    evaluate(program, date(2026, 1, 1))
    for month in (2, 3, 4, 5):
        evaluate(program, date(2026, month, 1))
    assert rank(customer, program) == 1
    assert membership(customer, program).months_under_ratio == 0
    assert not DowngradeWarning.objects.exists()


def test_evaluating_one_customer_applies_a_passed_deadline(
    program, customer, warned_in_april, supervisor
):
    change = customer_evaluate(
        program_id=program.pk, customer_id=customer.pk, actor=supervisor, as_of=date(2026, 5, 2)
    )
    assert change is not None
    assert (change.kind, change.changed_by, change.run) == (Change.Kind.DOWNGRADE, supervisor, None)
    assert rank(customer, program) == 2


def test_a_second_run_on_the_same_day_changes_nothing(program, customer, warned_in_april):
    evaluate(program, date(2026, 5, 1))
    changes = Change.objects.count()
    evaluate(program, date(2026, 5, 1))
    assert Change.objects.count() == changes
    assert rank(customer, program) == 2
