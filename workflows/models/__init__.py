from workflows.models.outbox import Message, MessageTemplate, SensitiveEvent
from workflows.models.sequences import CareSequence, CareStep, Enrollment
from workflows.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "CareSequence",
    "CareStep",
    "Enrollment",
    "Message",
    "MessageTemplate",
    "SensitiveEvent",
    "WebhookDelivery",
    "WebhookEndpoint",
]
