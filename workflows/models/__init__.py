from workflows.models.campaigns import Campaign, CampaignMember
from workflows.models.outbox import Message, MessageTemplate, SensitiveEvent
from workflows.models.sequences import CareSequence, CareStep, Enrollment
from workflows.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Campaign",
    "CampaignMember",
    "CareSequence",
    "CareStep",
    "Enrollment",
    "Message",
    "MessageTemplate",
    "SensitiveEvent",
    "WebhookDelivery",
    "WebhookEndpoint",
]
