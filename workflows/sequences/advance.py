"""Advancing enrollments: for the due ones, first the exit rules, then each step's condition,
its message into the outbox, and the move to the next step (or completion).

A few statements per step and batch, never a query per enrollment. A message's occasion names
the enrollment and the step, so the outbox's unique key makes a re-run (a worker that died
after enqueueing, before moving on) enqueue nothing twice.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from crm.models import Consent, Transaction
from loyalty.models import Membership
from workflows.models import CareStep, Enrollment, Ticket
from workflows.models.sequences import ExitReason
from workflows.sequences.enqueue import step_invitations_create, step_messages_enqueue

logger = logging.getLogger(__name__)
BATCH = 2000


@dataclass
class AdvanceResult:
    exited: dict[str, int] = field(default_factory=dict)
    enqueued: int = 0
    advanced: int = 0
    completed: int = 0


def _purchases_since_enrolment() -> QuerySet:
    return Transaction.objects.filter(
        customer_id=OuterRef("customer_id"),
        kind=Transaction.Kind.PURCHASE,
        occurred_at__gt=OuterRef("enrolled_at"),
    )


def converted_q() -> Q:
    """A purchase since enrolment: any, or in the sequence's conversion category if it has one."""
    purchases = _purchases_since_enrolment()
    return Q(Q(sequence__conversion_category=""), Exists(purchases)) | Q(
        Exists(purchases.filter(category=OuterRef("sequence__conversion_category")))
    )


def _exit_rules() -> list[tuple[str, Q]]:
    opted_out = Consent.objects.filter(
        customer_id=OuterRef("customer_id"),
        purpose=Consent.Purpose.MARKETING,
        is_granted=False,
        withdrawn_at__isnull=False,
    )
    # A ticket opened since enrolment (not a timeline entry of kind "ticket": a ticket's status
    # changes are on the timeline too, and a "ticket resolved" sequence must not exit on its own).
    ticket = Ticket.objects.filter(
        customer_id=OuterRef("customer_id"), created_at__gte=OuterRef("enrolled_at")
    )
    return [
        (ExitReason.OPTED_OUT, Q(sequence__exit_on_opt_out=True) & Q(Exists(opted_out))),
        (ExitReason.TICKET_OPENED, Q(sequence__exit_on_ticket=True) & Q(Exists(ticket))),
        (ExitReason.CONVERTED, Q(sequence__exit_on_conversion=True) & converted_q()),
    ]


def _due(now: datetime) -> QuerySet:
    return Enrollment.objects.filter(
        state=Enrollment.State.ACTIVE, next_due_at__lte=now, sequence__is_active=True
    )


def enrollments_exit(*, now: datetime) -> dict[str, int]:
    """Due enrollments whose customer converted, opted out or opened a ticket stop here: one
    UPDATE per rule, before any of their steps is sent."""
    exited = {}
    for reason, rule in _exit_rules():
        exited[reason] = (
            _due(now)
            .filter(rule)
            .update(
                state=Enrollment.State.EXITED, exit_reason=reason, next_step=None, next_due_at=None
            )
        )
    return exited


def condition_q(condition: dict) -> Q:
    """A step's condition as a filter on enrollments (see CareStep.condition)."""
    q = Q()
    if condition.get("min_tier_rank"):
        q &= Q(
            Exists(
                Membership.objects.filter(
                    customer_id=OuterRef("customer_id"),
                    tier__rank__gte=condition["min_tier_rank"],
                )
            )
        )
    if condition.get("not_converted"):
        q &= ~converted_q()
    return q


@transaction.atomic
def _step_batch(step: CareStep, following: CareStep | None, *, now: datetime, batch: int):
    """One batch of the enrollments due at `step`: 3 statements (4 with a feedback form).
    Returns (taken, enqueued)."""
    ids = list(
        _due(now)
        .filter(sequence_id=step.sequence_id, next_step=step.order)
        .order_by("next_due_at", "id")
        .values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return 0, 0
    eligible = Enrollment.objects.filter(pk__in=ids).filter(condition_q(step.condition))
    if step.feedback_form_id is not None:
        step_invitations_create(step, eligible)
    enqueued = step_messages_enqueue(step, eligible)
    moving = Enrollment.objects.filter(
        pk__in=ids, state=Enrollment.State.ACTIVE, next_step=step.order
    )
    if following is None:
        moving.update(state=Enrollment.State.COMPLETED, next_step=None, next_due_at=None)
    else:
        moving.update(
            next_step=following.order,
            next_due_at=F("enrolled_at") + timedelta(days=following.delay_days),
        )
    return len(ids), enqueued


def enrollments_advance(*, now: datetime | None = None, batch: int = BATCH) -> AdvanceResult:
    """Exit rules first, then every step of the active sequences in order, so an enrollment
    whose next step is already due too (a beat that was down) catches up in the same run."""
    now = now or timezone.now()
    result = AdvanceResult(exited=enrollments_exit(now=now))
    steps = list(
        CareStep.objects.filter(sequence__is_active=True)
        .select_related("feedback_form")
        .order_by("sequence_id", "order")
    )
    for index, step in enumerate(steps):
        after = steps[index + 1] if index + 1 < len(steps) else None
        following = after if after is not None and after.sequence_id == step.sequence_id else None
        while True:
            try:
                taken, enqueued = _step_batch(step, following, now=now, batch=batch)
            except ValidationError as error:  # e.g. its template was deactivated
                logger.error("care sequence step %s not sent: %s", step.pk, error)
                break
            result.enqueued += enqueued
            if following is None:
                result.completed += taken
            else:
                result.advanced += taken
            if taken < batch:
                break
    return result
