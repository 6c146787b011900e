"""Helpers for the campaign tests: a template, a segment, a campaign due now."""

from datetime import timedelta

from crm.models import Segment
from tests.loyalty.factories import ProgramFactory
from workflows.models import Campaign, MessageTemplate


def campaign_template(code: str = "spring", channel: str = "sms") -> MessageTemplate:
    template, _ = MessageTemplate.objects.get_or_create(
        code=code,
        channel=channel,
        language="en",
        defaults={"purpose": "marketing", "body": "Spring offer for {{ customer.name }}"},
    )
    return template


def due_campaign(now, *, definition=None, **fields) -> Campaign:
    campaign_template()
    segment, _ = Segment.objects.get_or_create(
        name=f"segment {definition}", defaults={"definition": definition or {}}
    )
    values = {
        "name": f"campaign {Campaign.objects.count() + 1}",
        "segment": segment,
        "offer_kind": "reward",
        "offer": {"points": 500},
        "program": ProgramFactory(code="bank"),
        "channel": "sms",
        "template_code": "spring",
        "scheduled_at": now - timedelta(minutes=1),
        "state": Campaign.State.SCHEDULED,
    }
    return Campaign.objects.create(**{**values, **fields})
