"""Tier benefits: periods, the nightly grant, uses within the quota, keys, who holds what."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.catalogue import benefits_held, period_bounds
from loyalty.models import Benefit, BenefitAllowance, BenefitUse, EvaluationRun
from loyalty.services.benefits import (
    BenefitNotCountable,
    BenefitNotHeld,
    OverQuota,
    benefit_use,
    benefits_grant,
)
from loyalty.services.ledger import KeyReused
from loyalty.tasks import evaluate_program_task
from tests.factories import CustomerFactory
from tests.loyalty.factories import customer_since_2025, member
from tests.loyalty.points.rewards_helpers import bank, benefit

pytestmark = pytest.mark.django_db
TODAY = "2026-05-20 10:00 +08:00"


@pytest.fixture
def program():
    return bank()


@pytest.fixture
def customer(rm):
    return CustomerFactory(owner=rm)


@pytest.mark.parametrize(
    ("period", "day", "bounds"),
    [
        ("month", date(2026, 2, 14), (date(2026, 2, 1), date(2026, 2, 28))),
        ("month", date(2024, 2, 29), (date(2024, 2, 1), date(2024, 2, 29))),
        ("quarter", date(2026, 5, 20), (date(2026, 4, 1), date(2026, 6, 30))),
        ("quarter", date(2026, 12, 31), (date(2026, 10, 1), date(2026, 12, 31))),
        ("year", date(2026, 5, 20), (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_periods_are_local_calendar_periods(period, day, bounds):
    assert period_bounds(period, day) == bounds


def test_grant_gives_holders_at_the_tier_or_above_this_periods_allowance(program):
    checks = benefit(program, rank=2, quota=3, period="year")
    shipping = benefit(program, rank=3, code="shipping", quota=2, period="month")
    benefit(program, rank=2, code="discount", quota=None, discount_percent=50)
    base, silver, gold = (CustomerFactory() for _ in range(3))
    member(base, program, 1)
    member(silver, program, 2)
    member(gold, program, 3)

    with CaptureQueriesContext(connection) as queries:
        added = benefits_grant(program=program, as_of=date(2026, 5, 20))

    assert added == 3
    assert set(
        BenefitAllowance.objects.values_list(
            "customer_id", "benefit_id", "period_start", "period_end", "quota", "used"
        )
    ) == {
        (silver.pk, checks.pk, date(2026, 1, 1), date(2026, 12, 31), 3, 0),
        (gold.pk, checks.pk, date(2026, 1, 1), date(2026, 12, 31), 3, 0),
        (gold.pk, shipping.pk, date(2026, 5, 1), date(2026, 5, 31), 2, 0),
    }
    # The periods' SELECT, then one INSERT per kind of period (month, year).
    assert len(queries) <= 5


def test_grant_twice_adds_nothing_and_keeps_uses(rm, customer, program):
    checks = benefit(program, rank=2)
    member(customer, program, 2)
    benefits_grant(program=program, as_of=date(2026, 5, 20))
    BenefitAllowance.objects.update(used=1)

    assert benefits_grant(program=program, as_of=date(2026, 5, 21)) == 0
    assert BenefitAllowance.objects.get(benefit=checks).used == 1


def test_grant_of_a_new_period_adds_a_new_row(customer, program):
    benefit(program, rank=2, period="month")
    member(customer, program, 2)
    benefits_grant(program=program, as_of=date(2026, 5, 31))

    benefits_grant(program=program, as_of=date(2026, 6, 1))

    assert list(
        BenefitAllowance.objects.order_by("period_start").values_list("period_start", flat=True)
    ) == [date(2026, 5, 1), date(2026, 6, 1)]


def test_the_nightly_evaluation_task_grants_the_benefits(program):
    benefit(program, rank=1, code="welcome", quota=1)
    customer = customer_since_2025()

    with time_machine.travel(TODAY, tick=False):
        evaluate_program_task.apply(kwargs={"program_id": program.pk, "as_of": "2026-05-19"}).get()

    assert EvaluationRun.objects.get().status == EvaluationRun.Status.DONE
    allowance = BenefitAllowance.objects.get(customer=customer)
    assert allowance.period_start == date(2026, 1, 1)


@time_machine.travel(TODAY, tick=False)
def test_use_counts_one_and_refuses_past_the_quota(rm, customer, program):
    checks = benefit(program, rank=2, quota=2)
    member(customer, program, 2)

    benefit_use(actor=rm, customer=customer, benefit=checks, key="u1", note="Ruijin hospital")
    benefit_use(actor=rm, customer=customer, benefit=checks, key="u2")
    with pytest.raises(OverQuota) as error:
        benefit_use(actor=rm, customer=customer, benefit=checks, key="u3")

    assert error.value.code == "over_quota"
    allowance = BenefitAllowance.objects.get()
    assert allowance.used == 2
    assert BenefitUse.objects.count() == 2
    assert BenefitUse.objects.get(key="u1").note == "Ruijin hospital"


@time_machine.travel(TODAY, tick=False)
def test_a_holder_upgraded_today_gets_the_allowance_on_first_use(rm, customer, program):
    checks = benefit(program, rank=2, quota=3)
    member(customer, program, 3)  # no nightly grant yet

    use = benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")

    assert use.allowance.period_start == date(2026, 1, 1)
    assert use.allowance.quota == 3
    assert use.allowance.used == 0  # the object as created; the row says 1
    assert BenefitAllowance.objects.get().used == 1


@time_machine.travel(TODAY, tick=False)
def test_the_same_key_uses_once(rm, customer, program):
    checks = benefit(program, rank=2, quota=3)
    member(customer, program, 2)

    first = benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")
    again = benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")

    assert again.pk == first.pk
    assert BenefitAllowance.objects.get().used == 1


@time_machine.travel(TODAY, tick=False)
def test_the_same_key_for_another_benefit_is_refused(rm, customer, program):
    checks = benefit(program, rank=2, quota=3)
    lounge = benefit(program, rank=2, code="lounge", quota=6)
    member(customer, program, 2)
    benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")

    with pytest.raises(KeyReused):
        benefit_use(actor=rm, customer=customer, benefit=lounge, key="u1")


@time_machine.travel(TODAY, tick=False)
def test_a_lower_tier_or_no_membership_does_not_hold_it(rm, customer, program):
    checks = benefit(program, rank=3)
    with pytest.raises(BenefitNotHeld):
        benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")
    member(customer, program, 2)
    with pytest.raises(BenefitNotHeld):
        benefit_use(actor=rm, customer=customer, benefit=checks, key="u2")
    assert not BenefitAllowance.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_a_downgraded_customer_cannot_use_what_is_left(rm, customer, program):
    checks = benefit(program, rank=3)
    membership = member(customer, program, 3)
    benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")
    membership.tier = program.tiers.get(rank=2)
    membership.save()

    with pytest.raises(BenefitNotHeld):
        benefit_use(actor=rm, customer=customer, benefit=checks, key="u2")
    assert BenefitAllowance.objects.get().used == 1


@time_machine.travel(TODAY, tick=False)
def test_a_discount_cannot_be_used(rm, customer, program):
    discount = benefit(program, rank=1, code="fee", quota=None, discount_percent=50)
    member(customer, program, 2)

    with pytest.raises(BenefitNotCountable):
        benefit_use(actor=rm, customer=customer, benefit=discount, key="u1")


@time_machine.travel(TODAY, tick=False)
def test_another_rms_customer_cannot_use_benefits(foreign_rm, customer, program):
    checks = benefit(program, rank=1)
    member(customer, program, 2)

    with pytest.raises(Exception, match="cannot act for this customer"):
        benefit_use(actor=foreign_rm, customer=customer, benefit=checks, key="u1")
    assert not BenefitUse.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_held_benefits_show_uses_left_and_discounts(
    rm, customer, program, django_assert_num_queries
):
    checks = benefit(program, rank=2, quota=3)
    benefit(program, rank=2, code="fee", name="Fee", quota=None, discount_percent=50)
    benefit(program, rank=3, code="lounge", name="Lounge", quota=6)
    benefit(program, rank=1, code="old", name="Old", quota=1, is_active=False)
    member(customer, program, 2)
    benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")

    with django_assert_num_queries(3):
        held = benefits_held(customer_id=customer.pk, as_of=date(2026, 5, 20))

    assert [(h.benefit.code, h.quota, h.used, h.left, h.is_discount) for h in held] == [
        ("fee", None, 0, None, True),
        ("health-check", 3, 1, 2, False),
    ]


def test_benefit_period_choices_match_the_model():
    assert set(Benefit.Period.values) == {"month", "quarter", "year"}
