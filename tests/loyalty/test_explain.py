"""A membership explains itself: values, distances, warnings, grace, credit blocks, the next
evaluation (which must be what the evaluation then does) and the history."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm.models import Customer
from loyalty.explain import membership_explain, requalification_day
from loyalty.models import (
    DowngradeWarning,
    EvaluationRun,
    GracePeriod,
    Membership,
    MembershipChange,
)
from loyalty.services.evaluation import program_evaluate
from tests.factories import (
    CreditEventFactory,
    CustomerFactory,
)
from tests.loyalty.factories import (
    SHANGHAI,
    customer_since_2025,
    member,
    products,
    spend,
    tiered_program,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 16)
Kind = MembershipChange.Kind


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI), tick=False)
    return TODAY


@pytest.fixture
def program(db):
    return tiered_program()


def group(tier, name):
    return next(group for group in tier.groups if group.name == name)


def test_a_customer_12000_short_of_card_spend_sees_12000_more(program):
    customer = customer_since_2025()
    products(customer, 2)
    spend(customer, "18000.00")
    program_evaluate(program_id=program.pk, as_of=TODAY - timedelta(days=1))

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.membership.tier_name == "Silver"
    assert explanation.next_tier.name == "Gold"
    card = group(explanation.next_tier, "card spend")
    assert card.holds is False
    assert card.distance == ("12,000.00 more spend (card) within a 12-month window",)
    [condition] = card.conditions
    assert (condition.value, condition.threshold, condition.gap) == (
        Decimal("18000"),
        Decimal("30000"),
        Decimal("12000"),
    )
    assert (condition.value_text, condition.threshold_text) == ("18,000.00", "30,000.00")
    # The shop group: the spend holds, the orders do not (1 of 3).
    shop = group(explanation.next_tier, "shop")
    assert [c.holds for c in shop.conditions] == [True, False]
    assert shop.distance == ("2 more number of orders within a 12-month window",)
    assert explanation.next_evaluation.outcome == "stays at Silver"


def test_one_product_short_sees_1_more(program):
    customer = customer_since_2025()
    products(customer, 1)
    program_evaluate(program_id=program.pk, as_of=TODAY - timedelta(days=1))

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.membership.tier_rank == 1
    assert explanation.next_tier.name == "Silver"
    assert group(explanation.next_tier, "products").distance == (
        "1 more intermediate products held",
    )
    silver = next(tier for tier in explanation.tiers if tier.rank == 2)
    [condition] = silver.groups[0].conditions
    assert (condition.value_text, condition.threshold_text, condition.holds) == ("1", "2", False)
    assert [tier.rank for tier in explanation.tiers] == [3, 2, 1]


def test_a_customer_not_evaluated_yet_sees_what_they_qualify_for(program):
    customer = customer_since_2025()
    spend(customer, "30000")

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.membership is None
    assert (explanation.qualified_tier, explanation.qualified_group) == ("Gold", "card spend")
    assert explanation.next_evaluation.kind == Kind.JOINED
    assert explanation.next_evaluation.outcome == "joins at Gold"
    assert explanation.next_tier is None  # Gold is the top


def test_an_open_warning_past_its_deadline_means_a_downgrade_next(program):
    customer = customer_since_2025()
    membership = member(customer, program, 3)
    warning = DowngradeWarning.objects.create(
        membership=membership,
        customer=customer,
        program=program,
        tier=membership.tier,
        opened_on=date(2026, 2, 14),
        deadline=date(2026, 3, 14),
    )

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.warning.id == warning.pk
    assert (explanation.warning.tier_name, explanation.warning.deadline) == (
        "Gold",
        date(2026, 3, 14),
    )
    following = explanation.next_evaluation
    assert (following.kind, following.to_rank) == (Kind.DOWNGRADE, 2)
    assert following.outcome == "moves down to Silver: the warning's deadline has passed"
    assert following.runs_on == TODAY + timedelta(days=1)


def test_an_open_warning_before_its_deadline_says_when(program):
    customer = customer_since_2025()
    membership = member(customer, program, 3)
    DowngradeWarning.objects.create(
        membership=membership,
        customer=customer,
        program=program,
        tier=membership.tier,
        opened_on=date(2026, 3, 1),
        deadline=date(2026, 4, 1),
    )

    following = membership_explain(customer=customer, program=program).next_evaluation

    assert following.kind is None
    assert following.outcome == "stays at Gold"
    assert any("on or after 04/01/2026" in note for note in following.notes), following.notes


def test_a_running_grace_period_is_shown_and_holds_off_the_downgrade(program, supervisor, rm):
    customer = customer_since_2025()
    membership = member(customer, program, 3)
    DowngradeWarning.objects.create(
        membership=membership,
        customer=customer,
        program=program,
        tier=membership.tier,
        opened_on=date(2026, 2, 14),
        deadline=date(2026, 3, 14),
    )
    GracePeriod.objects.create(
        customer=customer,
        program=program,
        months=1,
        reason=GracePeriod.Reason.ILLNESS,
        status=GracePeriod.Status.APPROVED,
        requested_by=rm,
        decided_by=supervisor,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 1),
    )

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.grace.last_day == date(2026, 3, 31)
    assert explanation.grace.reason_label == "illness"
    following = explanation.next_evaluation
    assert (following.kind, following.outcome) == (None, "stays at Gold")
    assert "The open warning is suspended: a grace period runs." in following.notes


def test_a_grace_period_not_running_on_the_day_is_not_shown(program, supervisor, rm):
    customer = customer_since_2025()
    member(customer, program, 3)
    GracePeriod.objects.create(
        customer=customer,
        program=program,
        months=1,
        reason=GracePeriod.Reason.ILLNESS,
        status=GracePeriod.Status.APPROVED,
        requested_by=rm,
        decided_by=supervisor,
        starts_on=date(2026, 2, 1),
        ends_on=TODAY,  # the first day without the freeze
    )

    assert membership_explain(customer=customer, program=program).grace is None


def test_a_serious_credit_event_drops_to_base_and_shows_the_requalification_day(program):
    customer = customer_since_2025()
    spend(customer, "30000")  # qualifies for Gold...
    member(customer, program, 3)
    CreditEventFactory(
        customer=customer, occurred_at=datetime(2026, 1, 10, 9, 0, tzinfo=SHANGHAI)
    )  # ...but a serious credit event blocks it for the program's 12 months

    explanation = membership_explain(customer=customer, program=program)

    block = explanation.credit_block
    assert block.requalifies_on == date(2027, 1, 10)
    following = explanation.next_evaluation
    assert (following.kind, following.to_rank) == (Kind.CREDIT_EVENT, 1)
    assert following.outcome == "drops to the base tier, Member: serious credit event"


def test_a_blocked_newcomer_joins_at_the_base_tier(program):
    customer = customer_since_2025()
    spend(customer, "30000")
    CreditEventFactory(customer=customer, occurred_at=datetime(2026, 1, 10, tzinfo=SHANGHAI))

    following = membership_explain(customer=customer, program=program).next_evaluation

    assert (following.kind, following.to_rank) == (Kind.JOINED, 1)
    assert any("No move up to Gold before 01/10/2027" in note for note in following.notes)


def test_the_requalification_day_is_the_first_day_the_evaluation_no_longer_blocks(program):
    """A month end: an event on 31 August, a 6-month block, is still inside it on 28 February
    (the scratch table's own test), so the day is 1 March."""
    program.credit_block_months = 6
    program.save(update_fields=["credit_block_months"])
    customer = CustomerFactory(created_at=datetime(2025, 1, 1, tzinfo=SHANGHAI))
    occurred_at = datetime(2025, 8, 31, 20, 0, tzinfo=SHANGHAI)
    CreditEventFactory(customer=customer, occurred_at=occurred_at)

    day = requalification_day(occurred_at=occurred_at, block_months=6)

    assert day == date(2026, 3, 1)
    before = membership_explain(customer=customer, program=program, as_of=day - timedelta(days=1))
    on_the_day = membership_explain(customer=customer, program=program, as_of=day)
    assert before.credit_block is not None
    assert before.credit_block.requalifies_on == day
    assert on_the_day.credit_block is None


def test_the_months_first_run_would_count_a_month_and_open_a_warning(program):
    customer = customer_since_2025()
    member(customer, program, 3, months_under_ratio=2)  # no spend at all: under the ratio

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.under_ratio is True
    assert (explanation.months_under_ratio, explanation.warning_after_months) == (2, 3)
    following = explanation.next_evaluation
    assert following.is_monthly is True  # no run yet in March
    assert (following.counts_month_under_ratio, following.opens_warning) == (True, True)
    assert following.new_warning_deadline == date(2026, 4, 16)
    assert "Counts a month under the warning ratio: 3 of 3." in following.notes


def test_a_later_run_in_the_month_counts_nothing(program):
    customer = customer_since_2025()
    member(customer, program, 3, months_under_ratio=2)
    EvaluationRun.objects.create(
        program=program, as_of=date(2026, 3, 1), status=EvaluationRun.Status.DONE
    )

    following = membership_explain(customer=customer, program=program).next_evaluation

    assert following.is_monthly is False
    assert (following.counts_month_under_ratio, following.opens_warning) == (False, False)


def test_the_explanation_agrees_with_what_the_evaluation_then_does(program, supervisor, rm):
    """Every kind of outcome side by side: explain each customer, evaluate, compare."""
    joins_gold = customer_since_2025()
    spend(joins_gold, "30000")
    joins_base = customer_since_2025()
    moves_up = customer_since_2025()
    member(moves_up, program, 1)
    products(moves_up, 2)
    stays = customer_since_2025()
    member(stays, program, 2)
    products(stays, 2)
    downgraded = customer_since_2025()
    membership = member(downgraded, program, 3)
    DowngradeWarning.objects.create(
        membership=membership,
        customer=downgraded,
        program=program,
        tier=membership.tier,
        opened_on=date(2026, 2, 10),
        deadline=date(2026, 3, 10),
    )
    dropped = customer_since_2025()
    member(dropped, program, 2)
    products(dropped, 2)
    CreditEventFactory(customer=dropped, occurred_at=datetime(2026, 3, 1, tzinfo=SHANGHAI))
    warned = customer_since_2025()
    member(warned, program, 2, months_under_ratio=2)
    graced = customer_since_2025()
    member(graced, program, 2, months_under_ratio=2)
    GracePeriod.objects.create(
        customer=graced,
        program=program,
        months=1,
        reason=GracePeriod.Reason.OTHER,
        status=GracePeriod.Status.APPROVED,
        requested_by=rm,
        decided_by=supervisor,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 1),
    )
    customers = [joins_gold, joins_base, moves_up, stays, downgraded, dropped, warned, graced]
    told = {
        customer.pk: membership_explain(customer=customer, program=program, as_of=TODAY)
        for customer in customers
    }

    run = program_evaluate(program_id=program.pk, as_of=TODAY)

    assert run.is_monthly is True
    done = {
        change.customer_id: (change.kind, change.to_tier.rank)
        for change in MembershipChange.objects.filter(evaluated_on=TODAY).select_related("to_tier")
    }
    opened = set(
        DowngradeWarning.objects.filter(opened_on=TODAY).values_list("customer_id", flat=True)
    )
    for customer in customers:
        following = told[customer.pk].next_evaluation
        expected = (following.kind, following.to_rank) if following.kind else None
        assert done.get(customer.pk) == expected, customer
        assert (customer.pk in opened) == following.opens_warning, customer
        if following.opens_warning:
            warning = DowngradeWarning.objects.get(customer=customer, opened_on=TODAY)
            assert warning.deadline == following.new_warning_deadline
        membership = Membership.objects.get(customer=customer, program=program)
        if following.counts_month_under_ratio:
            assert membership.months_under_ratio == told[customer.pk].months_under_ratio + 1
    # The cases above do cover every outcome.
    assert {told[c.pk].next_evaluation.kind for c in customers} == {
        Kind.JOINED,
        Kind.UPGRADE,
        Kind.DOWNGRADE,
        Kind.CREDIT_EVENT,
        None,
    }
    assert told[warned.pk].next_evaluation.opens_warning is True
    assert told[graced.pk].next_evaluation.counts_month_under_ratio is False
    assert Membership.objects.get(customer=graced).months_under_ratio == 0


def test_the_history_is_the_last_changes_with_their_reasons(program):
    customer = customer_since_2025()
    products(customer, 2)
    program_evaluate(program_id=program.pk, as_of=TODAY - timedelta(days=2))
    spend(customer, "30000")
    program_evaluate(program_id=program.pk, as_of=TODAY - timedelta(days=1))

    explanation = membership_explain(customer=customer, program=program)

    upgrade, joined = explanation.changes
    assert (upgrade.kind, upgrade.from_tier, upgrade.to_tier) == (Kind.UPGRADE, "Silver", "Gold")
    assert upgrade.reason == "card spend: Spend (card) 30,000.00 (≥ 30,000.00)"
    assert upgrade.changed_by == "nightly evaluation"
    assert joined.reason == "products: Intermediate products held 2 (≥ 2)"


def test_the_queries_do_not_grow_with_the_history(program):
    short, long = customer_since_2025(), customer_since_2025()
    for customer, rows in ((short, 1), (long, 25)):
        membership = member(customer, program, 1)
        for day in range(rows):
            MembershipChange.objects.create(
                membership=membership,
                customer=customer,
                program=program,
                to_tier=membership.tier,
                kind=Kind.JOINED,
                evaluated_on=date(2026, 1, 1) + timedelta(days=day),
            )
            DowngradeWarning.objects.create(
                membership=membership,
                customer=customer,
                program=program,
                tier=membership.tier,
                opened_on=date(2025, 1, 1) + timedelta(days=day),
                deadline=date(2025, 2, 1) + timedelta(days=day),
                status=DowngradeWarning.Status.RECOVERED,
            )
    counts = []
    for customer in (short, long):
        with CaptureQueriesContext(connection) as queries:
            explanation = membership_explain(customer=customer, program=program, history_limit=10)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert len(explanation.changes) == len(explanation.warnings) == 10
    assert explanation.changes[0].evaluated_on == date(2026, 1, 25)


def test_a_merged_customer_is_left_out_like_the_evaluation_does(program):
    customer = customer_since_2025(status=Customer.Status.MERGED)

    explanation = membership_explain(customer=customer, program=program)

    assert explanation.is_evaluated is False
    assert explanation.next_evaluation is None


def test_as_of_defaults_to_today(program):
    customer = customer_since_2025()
    assert membership_explain(customer=customer, program=program).as_of == timezone.localdate()
    assert timezone.localdate() == TODAY


def test_the_next_evaluation_time_follows_the_schedule_as_edited(program):
    customer = customer_since_2025()
    nightly = PeriodicTask.objects.select_related("crontab").get(
        task="loyalty.tasks.evaluate_all_programs_task"
    )
    nightly.crontab.hour, nightly.crontab.minute = "2", "15"
    nightly.crontab.save()
    next_evaluation = membership_explain(customer=customer, program=program).next_evaluation
    assert next_evaluation.runs_at == time(2, 15)

    nightly.enabled = False
    nightly.save()
    assert membership_explain(customer=customer, program=program).next_evaluation.runs_at is None
