"""Tickets for the admin tests, written straight to the table (the services are tk-core's)."""

from datetime import timedelta
from itertools import count

from django.utils import timezone

from workflows.models import AgentProfile, Ticket
from workflows.models.tickets import Department, Priority, TicketCategory

_numbers = count(1)


def ticket(customer, **fields) -> Ticket:
    now = timezone.now()
    defaults = {
        "team_id": customer.team_id,
        "department": Department.CUSTOMER_SERVICE,
        "category": TicketCategory.CARD,
        "priority": Priority.NORMAL,
        "status": Ticket.Status.OPEN,
        "subject": f"Card blocked {next(_numbers)}",
        "created_at": now - timedelta(hours=1),
        "first_response_due_at": now + timedelta(hours=1),
        "resolution_due_at": now + timedelta(hours=8),
    }
    return Ticket.objects.create(customer=customer, **{**defaults, **fields})


def agent(user, department=Department.CUSTOMER_SERVICE, **fields) -> AgentProfile:
    return AgentProfile.objects.create(user=user, department=department, **fields)
