"""What the SLA watcher's staff messages say: the ticket behind an occasion
`ticket:{id}:{clock}-warning` or `ticket:{id}:{clock}-breach:{supervisor id}`, given to the
outbox's renderer at dispatch (one query per batch)."""

import re

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from workflows.models import Message, Ticket
from workflows.outbox.rendering import ContextMissing, message_context_register

_OCCASION = re.compile(r"^ticket:(\d+):(response|resolution)-(warning|breach)(?::\d+)?$")


def ticket_admin_url(ticket_id: int) -> str:
    """The ticket's admin page, absolute (WORKFLOWS_PUBLIC_BASE_URL)."""
    try:
        path = reverse("admin:workflows_ticket_change", args=[ticket_id])
    except NoReverseMatch:  # the ticket admin not registered (e.g. a trimmed URLconf)
        path = f"/admin/workflows/ticket/{ticket_id}/change/"
    return settings.WORKFLOWS_PUBLIC_BASE_URL.rstrip("/") + path


def _context(ticket: Ticket, clock: str, language: str) -> dict:
    due = ticket.first_response_due_at if clock == "response" else ticket.resolution_due_at
    with translation.override(language or settings.LANGUAGE_CODE):
        return {
            "ticket": ticket,
            "ticket_id": ticket.pk,
            "subject": ticket.subject,
            "clock": _("first response") if clock == "response" else _("resolution"),
            "due_at": formats.date_format(timezone.localtime(due), "DATETIME_FORMAT")
            if due
            else "",
            "priority": str(ticket.get_priority_display()),
            "escalated": ticket.escalated_at is not None,
            "assignee": str(ticket.assignee or _("nobody")),
            "admin_url": ticket_admin_url(ticket.pk),
        }


@message_context_register("ticket:")
def ticket_message_contexts(messages: list[Message]) -> dict:
    wanted = {m.pk: _OCCASION.match(m.occasion) for m in messages}
    ids = {int(match[1]) for match in wanted.values() if match}
    tickets = Ticket.objects.select_related("assignee").in_bulk(ids) if ids else {}
    contexts: dict[int, dict | ContextMissing] = {}
    for message in messages:
        match = wanted[message.pk]
        ticket = tickets.get(int(match[1])) if match else None
        if ticket is None:
            contexts[message.pk] = ContextMissing(f"ticket not found ({message.occasion})")
        else:
            contexts[message.pk] = _context(ticket, match[2], message.language)
    return contexts
