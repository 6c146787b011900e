"""Conversions: a member converts by the campaign's rule (a purchase, a purchase in a category,
or a redemption of the offered reward) after the launch and within the window. Control members
convert the same way: that is what the offer is measured against.

One UPDATE per campaign marks the members whose first converting event is in the window;
running it again changes nothing (only members not yet converted are looked at). A campaign
whose window is over gets a last pass and is finished by a guarded UPDATE.

Points bonuses are not posted here yet: conversions are recorded, the bonus is not (see the
report to the lead).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from crm.models import Transaction
from loyalty.models import Redemption
from workflows.models import Campaign, CampaignMember


def _converting_events(campaign: Campaign) -> QuerySet:
    start = campaign.launched_at
    end = start + timedelta(days=campaign.conversion_days)
    rule = campaign.conversion_rule
    if rule == Campaign.ConversionRule.REDEMPTION:
        return Redemption.objects.filter(
            account__customer_id=OuterRef("customer_id"),
            reward_id=(campaign.offer or {}).get("reward"),
            status=Redemption.Status.COMPLETED,
            created_at__gte=start,
            created_at__lt=end,
        )
    purchases = Transaction.objects.filter(
        customer_id=OuterRef("customer_id"),
        kind=Transaction.Kind.PURCHASE,
        occurred_at__gte=start,
        occurred_at__lt=end,
    )
    if rule == Campaign.ConversionRule.CATEGORY_PURCHASE:
        purchases = purchases.filter(category=campaign.conversion_category)
    return purchases


def _first_event_at(events: QuerySet) -> Subquery:
    """The first converting event's time: MIN over the member's events, one row."""
    if events.model is Redemption:
        group, field = "account__customer_id", "created_at"
    else:
        group, field = "customer_id", "occurred_at"
    return Subquery(events.order_by().values(group).annotate(first=Min(field)).values("first")[:1])


@transaction.atomic
def campaign_conversions_record(*, campaign: Campaign) -> int:
    """Mark the members who converted since the last run; returns how many."""
    if campaign.launched_at is None:
        return 0
    events = _converting_events(campaign)
    return (
        CampaignMember.objects.filter(campaign=campaign, converted_at__isnull=True)
        .filter(Exists(events))
        .update(converted_at=_first_event_at(events))
    )


def campaigns_conversions_record() -> dict[int, int]:
    """What the hourly beat task runs: every launched campaign; those past their window are
    finished after their last pass."""
    now = timezone.now()
    counts = {}
    for campaign in Campaign.objects.filter(state=Campaign.State.LAUNCHED):
        counts[campaign.pk] = campaign_conversions_record(campaign=campaign)
        if campaign.launched_at + timedelta(days=campaign.conversion_days) <= now:
            Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.LAUNCHED).update(
                state=Campaign.State.FINISHED, finished_at=now
            )
    return counts
