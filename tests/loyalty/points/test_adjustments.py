"""Staff adjustments: a reason and a permission; above the threshold a second person approves."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from loyalty.ledger_check import ledger_discrepancies
from loyalty.models import PointsAccount, PointsAdjustment, PointsEntry
from loyalty.services.adjustments import (
    adjustment_approve,
    adjustment_reject,
    adjustment_request,
)
from loyalty.services.ledger import InsufficientPoints, account_get_or_create, credit
from tests.factories import CustomerFactory, UserFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db
Status = PointsAdjustment.Status


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = 10_000


@pytest.fixture
def program():
    return ProgramFactory(code="bank")


@pytest.fixture
def customer(rm):
    return CustomerFactory(owner=rm)


def balance(customer, program):
    return PointsAccount.objects.get(customer=customer, program=program).balance


def test_a_small_adjustment_is_applied_at_once(rm, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=500, reason="Goodwill: late card"
    )

    assert adjustment.status == Status.APPLIED
    entry = adjustment.entry
    assert (entry.kind, entry.points, entry.key) == ("adjust", 500, f"adjustment:{adjustment.pk}")
    assert entry.note == "Goodwill: late card"
    assert entry.created_by == rm
    assert entry.lot.remaining == 500
    assert balance(customer, program) == 500
    assert ledger_discrepancies() == []


def test_a_removal_cannot_take_the_balance_below_zero(rm, customer, program):
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    credit(account=account, kind="earn", points=100, key="e1", expires_on=date(2027, 1, 1))

    with pytest.raises(InsufficientPoints):
        adjustment_request(actor=rm, customer=customer, program=program, points=-101, reason="x")

    assert not PointsAdjustment.objects.exists()
    assert balance(customer, program) == 100
    adjustment_request(actor=rm, customer=customer, program=program, points=-100, reason="x")
    assert balance(customer, program) == 0


@pytest.mark.parametrize(
    ("points", "reason", "field"),
    [(0, "x", "points"), (5, "  ", "reason")],
)
def test_bad_input_changes_nothing(rm, customer, program, points, reason, field):
    with pytest.raises(ValidationError) as error:
        adjustment_request(
            actor=rm, customer=customer, program=program, points=points, reason=reason
        )

    assert field in error.value.error_dict
    assert not PointsEntry.objects.exists()
    assert not PointsAdjustment.objects.exists()


def test_another_rms_customer_or_no_permission_is_refused(rm, foreign_rm, customer, program):
    with pytest.raises(ValidationError) as error:
        adjustment_request(
            actor=foreign_rm, customer=customer, program=program, points=5, reason="x"
        )
    assert "customer" in error.value.error_dict
    with pytest.raises(PermissionDenied):
        adjustment_request(
            actor=UserFactory(), customer=customer, program=program, points=5, reason="x"
        )
    assert not PointsAdjustment.objects.exists()


def test_a_large_adjustment_waits_for_a_second_person(rm, supervisor, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=10_001, reason="Migration fix"
    )

    assert adjustment.status == Status.PENDING
    assert adjustment.entry is None
    assert not PointsEntry.objects.exists()

    approved = adjustment_approve(adjustment_id=adjustment.pk, approver=supervisor)

    assert approved.status == Status.APPLIED
    assert approved.decided_by == supervisor
    assert approved.decided_at is not None
    assert approved.entry.points == 10_001
    assert approved.entry.created_by == supervisor
    assert balance(customer, program) == 10_001


def test_an_adjustment_at_the_threshold_needs_no_approval(rm, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=10_000, reason="x"
    )
    assert adjustment.status == Status.APPLIED


def test_nobody_approves_their_own_adjustment(supervisor, team, program):
    customer = CustomerFactory(team=team)
    adjustment = adjustment_request(
        actor=supervisor, customer=customer, program=program, points=-20_000, reason="x"
    )

    with pytest.raises(ValidationError) as error:
        adjustment_approve(adjustment_id=adjustment.pk, approver=supervisor)

    assert error.value.code == "own_request"
    adjustment.refresh_from_db()
    assert adjustment.status == Status.PENDING


def test_an_rm_cannot_approve(rm, other_rm, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=20_000, reason="x"
    )
    with pytest.raises(PermissionDenied):
        adjustment_approve(adjustment_id=adjustment.pk, approver=other_rm)


def test_a_supervisor_of_another_team_sees_no_such_adjustment(rm, customer, program, other_team):
    from tests.factories import make_supervisor

    outsider = make_supervisor(other_team, username="sup_other")
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=20_000, reason="x"
    )
    with pytest.raises(PointsAdjustment.DoesNotExist):
        adjustment_approve(adjustment_id=adjustment.pk, approver=outsider)


def test_an_adjustment_is_applied_once(rm, supervisor, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=20_000, reason="x"
    )
    adjustment_approve(adjustment_id=adjustment.pk, approver=supervisor)

    with pytest.raises(ValidationError) as error:
        adjustment_approve(adjustment_id=adjustment.pk, approver=supervisor)

    assert error.value.code == "adjustment_not_pending"
    assert PointsEntry.objects.count() == 1
    assert balance(customer, program) == 20_000


def test_a_large_removal_beyond_the_balance_stays_pending(rm, supervisor, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=-20_000, reason="x"
    )

    with pytest.raises(InsufficientPoints):
        adjustment_approve(adjustment_id=adjustment.pk, approver=supervisor)

    adjustment.refresh_from_db()
    assert adjustment.status == Status.PENDING
    assert not PointsEntry.objects.exists()


def test_a_rejection_needs_a_note_and_posts_nothing(rm, supervisor, customer, program):
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=20_000, reason="x"
    )
    with pytest.raises(ValidationError):
        adjustment_reject(adjustment_id=adjustment.pk, approver=supervisor, note=" ")

    rejected = adjustment_reject(
        adjustment_id=adjustment.pk, approver=supervisor, note="No evidence of the promise"
    )

    assert rejected.status == Status.REJECTED
    assert rejected.decision_note == "No evidence of the promise"
    assert not PointsEntry.objects.exists()
    with pytest.raises(ValidationError):
        adjustment_approve(adjustment_id=adjustment.pk, approver=supervisor)
