"""workflows' admin, one module per area; importing them registers the ModelAdmins."""

from workflows.admin import (
    campaigns,
    events,
    feedback_forms,
    feedback_officers,
    feedback_responses,
    outbox,
    sequences,
    templates,
    webhooks,
)

__all__ = ["campaigns", "events", "outbox", "sequences", "templates", "webhooks"]
__all__ += ["feedback_forms", "feedback_officers", "feedback_responses"]
