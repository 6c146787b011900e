"""Writes of consents, with their evidence: when, through which channel or form, who recorded.

A consent row per (customer, channel, purpose); simple-history keeps every earlier answer, so
"when did they say yes, and how do we know" survives a later withdrawal.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Consent, Customer


class ConsentInvalid(ValidationError):
    pass


def consent_evidence_stamp(consent: Consent, *, actor: Any, was_granted: bool | None) -> None:
    """Fill the evidence of an answer about to be saved: who and when; the moment it was given
    or withdrawn when the answer changed and no moment was typed in. Refuses an answer given
    without saying through what (the evidence channel)."""
    if not consent.evidence_channel:
        raise ConsentInvalid(
            {"evidence_channel": _("Say through what the customer gave this answer.")},
            code="evidence_channel",
        )
    now = timezone.now()
    consent.recorded_by = actor if getattr(actor, "is_authenticated", False) else None
    consent.recorded_at = now
    if consent.is_granted and was_granted is not True and consent.granted_at is None:
        consent.granted_at = now
    if not consent.is_granted and was_granted is True and consent.withdrawn_at is None:
        consent.withdrawn_at = now


@transaction.atomic
def consent_record(
    *,
    actor: Any,
    customer: Customer,
    channel: str,
    purpose: str,
    is_granted: bool,
    evidence_channel: str,
    evidence: str = "",
) -> Consent:
    """Record the customer's answer for a channel and purpose (creating or updating its row)."""
    if channel not in Consent.Channel.values or purpose not in Consent.Purpose.values:
        raise ConsentInvalid(_("Unknown channel or purpose."), code="channel")
    if evidence_channel not in Consent.EvidenceChannel.values:
        raise ConsentInvalid(
            {"evidence_channel": _("Say through what the customer gave this answer.")},
            code="evidence_channel",
        )
    consent = (
        Consent.objects.select_for_update()
        .filter(customer=customer, channel=channel, purpose=purpose)
        .first()
    )
    # A new answer is saved once, with its evidence: no bare row in the history before it. Two
    # first answers at once: the unique constraint refuses the second, which changes nothing.
    was_granted = consent.is_granted if consent else None
    consent = consent or Consent(customer=customer, channel=channel, purpose=purpose)
    consent.is_granted = is_granted
    consent.evidence_channel = evidence_channel
    consent.evidence = evidence.strip()[:200]
    if is_granted and was_granted is not True:
        consent.granted_at, consent.withdrawn_at = None, None
    consent_evidence_stamp(consent, actor=actor, was_granted=was_granted)
    consent.save()
    return consent
