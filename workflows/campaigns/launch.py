"""Launching a campaign: its segment's customers become members, a deterministic share is held
out as the control group, and the others get the offer through the outbox, whose rules apply
to every message (consent, quiet hours, caps, suppression, students, expiry).

Each step is one set-based statement; the guarded UPDATE scheduled -> launched makes the whole
launch happen once, and the INSERTs skip what exists, so running it again changes nothing.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from crm.models import Customer
from workflows.models import Campaign, CampaignMember, Message
from workflows.outbox.enqueue import message_key, messages_enqueue_for

logger = logging.getLogger(__name__)

# The control bucket: a multiplicative hash of (campaign, customer) modulo a prime, then
# modulo 1000. Plain integer arithmetic gives the same bucket on PostgreSQL, SQLite and in
# Python (control_bucket), so the split is reproducible and needs no random state.
_HASH_SQL = "((({customer}) * 2654435761 + %s * 40503) %% 1000003) %% 1000"


def control_bucket(*, campaign_id: int, customer_id: int) -> int:
    """The bucket (0..999) the SQL puts a customer in; below share x 1000 is the control."""
    return ((customer_id * 2654435761 + campaign_id * 40503) % 1000003) % 1000


def control_threshold(campaign: Campaign) -> int:
    return int(campaign.control_share * 1000)


def segment_customers(campaign: Campaign) -> QuerySet[Customer]:
    """The segment's customers over the whole company: a campaign is the company's, not an
    RM's, so crm's saved filter runs on all customers."""
    from crm.filters import CustomerFilter

    customer_filter = CustomerFilter(
        data=campaign.segment.definition or {}, queryset=Customer.objects.all()
    )
    # The segment was validated when saved; a filter that no longer validates selects nobody.
    if not customer_filter.is_valid():
        logger.warning("campaign %s: segment %s is invalid", campaign.pk, campaign.segment_id)
        return Customer.objects.none()
    return customer_filter.qs


@dataclass
class LaunchResult:
    members: int = 0
    control: int = 0
    messages: int = 0


def _members_insert(campaign: Campaign) -> int:
    ids_sql, ids_params = (
        segment_customers(campaign).order_by().values("pk").query.sql_with_params()
    )
    table = CampaignMember._meta.db_table
    bucket = _HASH_SQL.format(customer="c.id")
    # The WHERE also lets SQLite tell the upsert's ON CONFLICT from a join's ON.
    sql = f"""
        INSERT INTO {table} (campaign_id, customer_id, is_control, message_id, converted_at)
        SELECT %s, c.id, {bucket} < %s, NULL, NULL
        FROM {Customer._meta.db_table} AS c
        WHERE c.id IN ({ids_sql})
        ON CONFLICT (campaign_id, customer_id) DO NOTHING
    """  # noqa: S608 (identifiers from the models, values as parameters)
    params = [campaign.pk, campaign.pk, control_threshold(campaign), *ids_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _members_link_messages(campaign: Campaign) -> int:
    """Each treated member's message, found by the outbox's unique key (one UPDATE)."""
    sample = message_key(
        purpose=campaign.purpose,
        customer_id=0,
        occasion=campaign.occasion,
        channel=campaign.channel,
    )
    prefix, suffix = sample.split(":0:", 1)
    key = Concat(
        Value(f"{prefix}:"),
        Cast(OuterRef("customer_id"), CharField()),
        Value(f":{suffix}"),
        output_field=CharField(),
    )
    return CampaignMember.objects.filter(
        campaign=campaign, is_control=False, message__isnull=True
    ).update(message=Subquery(Message.objects.filter(key=key).values("pk")[:1]))


@transaction.atomic
def campaign_launch(*, campaign_id: int) -> LaunchResult | None:
    """Launch one due scheduled campaign; None if it is not (or no longer) due."""
    now = timezone.now()
    claimed = Campaign.objects.filter(
        pk=campaign_id, state=Campaign.State.SCHEDULED, scheduled_at__lte=now
    ).update(state=Campaign.State.LAUNCHED, launched_at=now)
    if not claimed:
        return None
    campaign = Campaign.objects.select_related("segment", "created_by").get(pk=campaign_id)
    result = LaunchResult(members=_members_insert(campaign))
    treated = Customer.objects.filter(
        campaign_memberships__campaign=campaign, campaign_memberships__is_control=False
    )
    result.messages = messages_enqueue_for(
        treated,
        channel=campaign.channel,
        purpose=campaign.purpose,
        occasion=campaign.occasion,
        template_code=campaign.template_code,
        offer_kind=campaign.offer_kind,
        expires_at=campaign.expires_at,
        created_by=campaign.created_by,
    )
    _members_link_messages(campaign)
    result.control = CampaignMember.objects.filter(campaign=campaign, is_control=True).count()
    return result


def campaigns_launch_due() -> dict[int, LaunchResult]:
    """What the beat task runs every minute: each due campaign, in its own transaction."""
    due = Campaign.objects.filter(
        state=Campaign.State.SCHEDULED, scheduled_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    results = {}
    for campaign_id in list(due):
        try:
            result = campaign_launch(campaign_id=campaign_id)
        except ValidationError:
            # E.g. its template was deactivated since: nothing happened, it stays scheduled
            # and is tried again next minute; the others launch.
            logger.exception("campaign %s could not be launched", campaign_id)
            continue
        if result is not None:
            results[campaign_id] = result
    return results
