"""Agents, customers and tickets for the ticket core tests."""

from tests.factories import CustomerFactory, UserFactory
from workflows.models import AgentProfile, Ticket
from workflows.models.tickets import Department, Priority, TicketCategory, TicketChannel
from workflows.tickets.services import ticket_create


def agent(username: str, *, department: str = Department.CUSTOMER_SERVICE, is_away=False):
    user = UserFactory(username=username)
    AgentProfile.objects.create(user=user, department=department, is_away=is_away)
    return user


def open_ticket(customer=None, **fields) -> Ticket:
    values = {
        "customer": customer or CustomerFactory(),
        "category": TicketCategory.CARD,
        "subject": "Card blocked",
        "channel": TicketChannel.PHONE,
        "priority": Priority.NORMAL,
    }
    ticket, _created = ticket_create(**{**values, **fields})
    return ticket


def loaded(user, *priorities: int) -> None:
    """Give `user` open tickets of these priorities (outside the assignment, as if earlier)."""
    for priority in priorities:
        Ticket.objects.create(
            customer=CustomerFactory(),
            department=Department.CUSTOMER_SERVICE,
            category=TicketCategory.CARD,
            subject="earlier",
            priority=priority,
            status=Ticket.Status.OPEN,
            assignee=user,
        )
