"""Recording a sensitive event: no marketing for the kind's number of days by default."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from workflows.models import SensitiveEvent


def suppression_default_until(*, kind: str, occurred_on: date) -> date:
    """The last day without marketing: WORKFLOWS_SUPPRESSION_DAYS[kind] days from the event."""
    days = settings.WORKFLOWS_SUPPRESSION_DAYS.get(
        kind, settings.WORKFLOWS_SUPPRESSION_DAYS["other"]
    )
    return occurred_on + timedelta(days=days)


@transaction.atomic
def sensitive_event_record(
    *,
    customer,
    kind: str,
    occurred_on: date,
    suppressed_until: date | None = None,
    note: str = "",
    recorded_by=None,
) -> SensitiveEvent:
    if kind not in SensitiveEvent.Kind.values:
        raise ValidationError(_("Unknown kind of sensitive event: %(value)s.") % {"value": kind})
    until = suppressed_until or suppression_default_until(kind=kind, occurred_on=occurred_on)
    if until < occurred_on:
        raise ValidationError(_("The suppression cannot end before the event."))
    return SensitiveEvent.objects.create(
        customer=customer,
        kind=kind,
        occurred_on=occurred_on,
        suppressed_until=until,
        note=note,
        recorded_by=recorded_by,
    )
