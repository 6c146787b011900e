"""workflows' admin, one module per area; importing them registers the ModelAdmins."""

from workflows.admin import campaigns, events, outbox, sequences, webhooks

__all__ = ["campaigns", "events", "outbox", "sequences", "webhooks"]
