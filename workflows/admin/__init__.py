"""workflows' admin, one module per area; importing them registers the ModelAdmins."""

from workflows.admin import campaigns, events, outbox, sequences, templates, webhooks

__all__ = ["campaigns", "events", "outbox", "sequences", "templates", "webhooks"]

from workflows.admin import feedback_sending  # noqa: E402

__all__ += ["feedback_sending"]

# Feedback: how free-text answers are read (topic rules, user dictionary).
from workflows.admin import feedback_reading  # noqa: E402

__all__ += ["feedback_reading"]
