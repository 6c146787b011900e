"""workflows' admin, one module per area; importing them registers the ModelAdmins."""

from workflows.admin import events, outbox, sequences, webhooks

__all__ = ["events", "outbox", "sequences", "webhooks"]
