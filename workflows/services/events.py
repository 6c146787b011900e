"""Sensitive events: recorded by the customer's RM; marketing stops until `suppressed_until`."""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer
from crm.selectors import customer_visibility_q
from workflows.models import SensitiveEvent
from workflows.suppression import default_suppressed_until


class SensitiveEventInvalid(ValidationError):
    pass


@transaction.atomic
def sensitive_event_record(
    *,
    actor: Any,
    customer: Customer,
    kind: str,
    occurred_on: date,
    note: str = "",
    suppressed_until: date | None = None,
) -> SensitiveEvent:
    """Record an event for a customer the actor may see; the suppression defaults by kind."""
    if kind not in SensitiveEvent.Kind.values:
        raise SensitiveEventInvalid(_("Unknown kind of event."), code="kind")
    if occurred_on > timezone.localdate():
        raise SensitiveEventInvalid(_("The event cannot be in the future."), code="future")
    if not Customer.objects.filter(customer_visibility_q(actor), pk=customer.pk).exists():
        raise SensitiveEventInvalid(_("Unknown customer."), code="customer")
    until = suppressed_until or default_suppressed_until(kind, occurred_on)
    if until < occurred_on:
        raise SensitiveEventInvalid(
            _("The suppression cannot end before the event."), code="suppression"
        )
    return SensitiveEvent.objects.create(
        customer=customer,
        kind=kind,
        occurred_on=occurred_on,
        suppressed_until=until,
        note=note.strip(),
        recorded_by=actor,
    )


def active_suppression(*, customer_id: int, today: date | None = None) -> SensitiveEvent | None:
    """The event suppressing marketing today with the latest end, or None: one query."""
    today = today or timezone.localdate()
    return (
        SensitiveEvent.objects.filter(customer_id=customer_id, suppressed_until__gte=today)
        .order_by("-suppressed_until", "-id")
        .first()
    )
