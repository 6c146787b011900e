"""Conversions: a member converts by the campaign's rule (a purchase, a purchase in a category,
or a redemption of the offered reward) after the launch and within the window. Control members
convert the same way: that is what the offer is measured against.

One UPDATE per campaign marks the members whose first converting event is in the window;
running it again changes nothing (only members not yet converted are looked at). A campaign
whose window is over gets a last pass and is finished by a guarded UPDATE.

A points bonus offer credits the offered members who converted (never the control group)
through loyalty's set-based posting, once: the entry's key is `campaign:{id}:{customer}`.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import CharField, Exists, Min, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from crm.models import Transaction
from loyalty.earning.posting import (
    posting_accounts_fill,
    posting_apply,
    posting_rows_add,
    scratch_tables,
)
from loyalty.models import PointsEntry, Redemption
from loyalty.services.ledger import expiry_for
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
    converted = (
        CampaignMember.objects.filter(campaign=campaign, converted_at__isnull=True)
        .filter(Exists(events))
        .update(converted_at=_first_event_at(events))
    )
    _points_bonus_post(campaign)
    return converted


def bonus_key(campaign_id: int, customer_id: int) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


def _points_bonus_post(campaign: Campaign) -> int:
    """Credit the bonus to the offered members who converted and have not had it: one query
    finds them, then loyalty's posting writes accounts, entries, lots and balances set-based."""
    points = campaign.points_bonus
    if points <= 0 or campaign.program is None:
        return 0
    posted = PointsEntry.objects.filter(
        key=Concat(
            Value(f"campaign:{campaign.pk}:"),
            Cast(OuterRef("customer_id"), CharField()),
            output_field=CharField(),
        )
    )
    customer_ids = list(
        CampaignMember.objects.filter(
            campaign=campaign, is_control=False, converted_at__isnull=False
        )
        .exclude(Exists(posted))
        .values_list("customer_id", flat=True)
    )
    if not customer_ids:
        return 0
    now = timezone.now()
    today = timezone.localdate(now)
    expires_on = expiry_for(campaign.program, today)
    rows = [
        {
            "customer_id": customer_id,
            "program_id": campaign.program_id,
            "key": bonus_key(campaign.pk, customer_id),
            "points": points,
            "occurred_on": today,
            "expires_on": expires_on,
            "transaction_id": None,
            "details": f'{{"campaign_id": {int(campaign.pk)}}}',
            "sort_key": customer_id,
        }
        for customer_id in customer_ids
    ]
    with scratch_tables({}):
        posting_rows_add(rows)
        posting_accounts_fill(now=now)
        return posting_apply(now=now, note=campaign.name)


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
