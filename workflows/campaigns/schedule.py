"""Scheduling a campaign (draft -> scheduled) and taking it back (scheduled -> draft): guarded
UPDATEs, so a campaign the beat task is launching at that moment is never changed under it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from workflows.models import Campaign
from workflows.outbox.rendering import customer_language, template_find


class CampaignStateError(ValidationError):
    pass


@transaction.atomic
def campaign_schedule(*, campaign: Campaign) -> None:
    """Ready to go at `scheduled_at`: the offer, the segment and the template must be valid."""
    campaign.full_clean()
    template_find(
        code=campaign.template_code, channel=campaign.channel, language=customer_language(None)
    )
    moved = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).update(
        state=Campaign.State.SCHEDULED
    )
    if not moved:
        raise CampaignStateError(_("Only a draft campaign can be scheduled."))
    campaign.state = Campaign.State.SCHEDULED


@transaction.atomic
def campaign_unschedule(*, campaign: Campaign) -> None:
    moved = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.SCHEDULED).update(
        state=Campaign.State.DRAFT
    )
    if not moved:
        raise CampaignStateError(
            _("Only a scheduled campaign that has not gone out can be taken back.")
        )
    campaign.state = Campaign.State.DRAFT
