"""workflows' admin, one module per area; importing them registers the ModelAdmins."""

from workflows.admin import campaigns, events, outbox, webhooks

__all__ = ["campaigns", "events", "outbox", "webhooks"]
