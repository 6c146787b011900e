from workflows.models.outbox import Message, MessageTemplate, SensitiveEvent
from workflows.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Message",
    "MessageTemplate",
    "SensitiveEvent",
    "WebhookDelivery",
    "WebhookEndpoint",
]
