"""workflows' admin, one module per area; importing them registers the ModelAdmins."""

from workflows.admin import (
    campaigns,
    events,
    feedback_forms,
    feedback_officers,
    feedback_reading,
    feedback_responses,
    feedback_sending,
    kpis,
    outbox,
    sequences,
    templates,
    tickets,
    webhooks,
)

__all__ = [
    "campaigns",
    "events",
    "feedback_forms",
    "feedback_officers",
    "feedback_reading",
    "feedback_responses",
    "feedback_sending",
    "kpis",
    "outbox",
    "sequences",
    "templates",
    "tickets",
    "webhooks",
]
