"""Helpers for the feedback sending tests: the seeded templates, a due sending, the links in
the outbox file."""

import re
from datetime import timedelta

from crm.models import Segment
from tests.workflows.feedback_factories import published_form
from workflows.feedback import links
from workflows.feedback.seeds import feedback_templates_seed
from workflows.models import FeedbackForm, FeedbackInvitation, FeedbackSending

LINK = re.compile(r"(https?://[^\s]+/f/(?P<slug>[\w-]+)/(?P<token>[^/\s]+)/(?:\?lang=[\w-]+)?)")


def form(slug: str = "service", **fields) -> FeedbackForm:
    """A published form with the seeded templates (the same form for the same slug)."""
    feedback_templates_seed()
    existing = FeedbackForm.objects.filter(slug=slug).first()
    return existing or published_form(slug=slug, **fields).form


def due_sending(now, *, form_=None, definition=None, **fields) -> FeedbackSending:
    segment, _ = Segment.objects.get_or_create(
        name=f"segment {definition}", defaults={"definition": definition or {}}
    )
    values = {
        "form": form_ or form(),
        "segment": segment,
        "channel": "sms",
        "template_code": "feedback_invitation",
        "scheduled_at": now - timedelta(minutes=1),
    }
    return FeedbackSending.objects.create(**{**values, **fields})


def invitation_of_link(text: str) -> FeedbackInvitation:
    """The invitation the (only) personal link in `text` opens."""
    (match,) = list(LINK.finditer(text))
    return FeedbackInvitation.objects.get(pk=links.invitation_id_from_token(match["token"]))
