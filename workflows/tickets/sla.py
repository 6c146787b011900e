"""The SLA clock of tickets, in business minutes of the ticket's calendar.

INTERFACE FIRST (being built in issue 9): these signatures are what the ticket services call.
Until the business-hours calendar lands, minutes are counted on the wall clock.
"""

from datetime import datetime, timedelta

from workflows.models import BusinessCalendar, Ticket


def add_business_minutes(
    calendar: BusinessCalendar | None, start: datetime, minutes: int
) -> datetime:
    """The moment `minutes` business minutes after `start`."""
    return start + timedelta(minutes=minutes)


def business_minutes_between(
    calendar: BusinessCalendar | None, start: datetime, end: datetime
) -> int:
    """Business minutes in [start, end)."""
    return max(0, int((end - start).total_seconds() // 60))


def ticket_sla_start(ticket: Ticket, *, now: datetime) -> None:
    """Choose the ticket's calendar and SLA policy and set both deadlines (not saved)."""


def ticket_sla_pause(ticket: Ticket, *, now: datetime) -> None:
    """Waiting on the customer begins: the clock stops (sets waiting_since; not saved)."""
    ticket.waiting_since = now


def ticket_sla_resume(ticket: Ticket, *, now: datetime) -> None:
    """The wait ends: both open deadlines move on by the business minutes waited (not saved)."""
    ticket.waiting_since = None
