"""The customer page's tickets panel (crm.panels): the latest tickets with their SLA state.
One query, whatever the customer's history; the page itself is already scoped to customers
the user may see."""

from typing import Any

from django.utils import timezone

LATEST_TICKETS = 10


def tickets_context(customer: Any, request: Any) -> dict[str, Any]:
    from workflows.admin.tickets import sla_left_text, ticket_admin_queryset
    from workflows.models import Ticket

    user = getattr(request, "user", None)
    now = timezone.now()
    tickets = list(
        ticket_admin_queryset(Ticket.objects.filter(customer_id=customer.pk), now=now)
        .only(
            "pk",
            "subject",
            "status",
            "priority",
            "created_at",
            "response_breached_at",
            "resolution_breached_at",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "sla_due_at",
        )
        .order_by("-created_at", "-id")[:LATEST_TICKETS]
    )
    for ticket in tickets:
        ticket.sla_text = sla_left_text(status=ticket.status, due=ticket.sla_due_at, now=now)
        ticket.is_breached = ticket._is_breached
    return {
        "tickets": tickets,
        "can_view": user is not None and user.has_perm("workflows.view_ticket"),
    }


def register_tickets_panel() -> None:
    from django.utils.translation import gettext_lazy as _

    from crm.panels import Panel, register_panel

    register_panel(
        Panel(
            key="workflows_tickets",
            title=_("Service tickets"),
            template="workflows/panels/tickets.html",
            get_context=tickets_context,
            order=55,
        )
    )
