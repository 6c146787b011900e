"""Recording an entry on a customer's timeline from another app's service (a feedback answer,
an adopted suggestion, a ticket's change), announced with `crm.signals.interactions_stored` in
the caller's transaction, so that loyalty's earning rules (a review bonus) see it there."""

from datetime import datetime

from django.utils import timezone

from crm.models import Interaction
from crm.signals import interactions_stored

SUMMARY_MAX = Interaction._meta.get_field("summary").max_length


def interaction_record(
    *,
    customer_id: int,
    kind: str,
    summary: str,
    staff=None,
    occurred_at: datetime | None = None,
) -> Interaction:
    """One timeline entry (the summary cut to the column's length), announced once stored."""
    interaction = Interaction.objects.create(
        customer_id=customer_id,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        summary=summary[:SUMMARY_MAX],
        staff=staff,
    )
    interactions_stored.send(sender=Interaction, interaction_ids=[interaction.pk])
    return interaction
