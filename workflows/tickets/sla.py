"""The SLA clock of tickets, in business minutes of the ticket's calendar
(workflows/tickets/business_hours.py).

- Start (`ticket_sla_start`): the calendar is the one linked to the ticket's team, else the
  default calendar (else Mon-Fri 09:00-18:00 with China's holidays). The policy is the one of
  the ticket's priority with the highest `min_tier_rank` the customer reaches; the customer's
  rank is their highest tier rank over their loyalty memberships (workflows may read loyalty:
  the apps depend workflows -> loyalty). A customer below every policy's rank (no membership)
  gets the priority's lowest-rank policy; a priority without any policy has no deadlines.
- Each deadline has a warning moment at 80% of its target, in business time
  (`response_warn_at`, `resolution_warn_at`), which the watcher (watch.py) compares with now.
- Waiting on the customer stops the clock (`ticket_sla_pause`); when the wait ends
  (`ticket_sla_resume`) every deadline still running when it began, and not yet met, moves on
  by the business minutes waited, and so does its warning moment.
- A priority changed by a person recomputes the deadlines from `created_at`
  (`ticket_sla_recompute`), keeping the minutes already waited on the customer. The watcher's
  own escalation (one step up at a breach) does not recompute: the breach is already recorded.

None of these save: the caller saves the ticket in its transaction (update_fields=SLA_FIELDS).
"""

from datetime import datetime

from django.db.models import Max

from loyalty.models import Membership
from workflows.models import BusinessCalendar, SlaPolicy, Ticket
from workflows.tickets.business_hours import MINUTE as _MICROSECONDS_PER_MINUTE
from workflows.tickets.business_hours import (
    CalendarSpec,
    add_business_minutes,
    business_minutes_between,
    calendar_spec,
    spec_add,
    spec_between,
)

__all__ = [
    "SLA_FIELDS",
    "WARN_AT",
    "add_business_minutes",
    "business_minutes_between",
    "business_minutes_since_opened",
    "ticket_calendar_for",
    "ticket_sla_pause",
    "ticket_sla_policy_for",
    "ticket_sla_recompute",
    "ticket_sla_resume",
    "ticket_sla_start",
]

WARN_AT = 0.8  # the warning comes at 80% of a target
SLA_FIELDS = [
    "calendar",
    "sla_policy",
    "first_response_due_at",
    "resolution_due_at",
    "response_warn_at",
    "resolution_warn_at",
    "waiting_since",
]


def ticket_calendar_for(ticket: Ticket) -> BusinessCalendar | None:
    """The calendar of the ticket's team, else the default one, else None (the fallback)."""
    calendars = BusinessCalendar.objects.order_by("-is_default", "pk")
    if ticket.team_id is not None:
        own = calendars.filter(teams=ticket.team_id).first()
        if own is not None:
            return own
    return calendars.filter(is_default=True).first()


def customer_tier_rank(customer_id: int) -> int:
    """The customer's highest tier rank over their memberships; 0 without one."""
    rank = Membership.objects.filter(customer_id=customer_id).aggregate(rank=Max("tier__rank"))
    return rank["rank"] or 0


def ticket_sla_policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The policy for the ticket's priority and its customer's tier (see the module)."""
    policies = SlaPolicy.objects.filter(priority=ticket.priority)
    rank = customer_tier_rank(ticket.customer_id)
    reached = policies.filter(min_tier_rank__lte=rank).order_by("-min_tier_rank").first()
    return reached or policies.order_by("min_tier_rank").first()


def _deadlines(ticket: Ticket, spec: CalendarSpec, start: datetime, extra_minutes: int) -> None:
    policy = ticket.sla_policy
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        ticket.response_warn_at = ticket.resolution_warn_at = None
        return
    response, resolution = policy.first_response_minutes, policy.resolution_minutes
    ticket.first_response_due_at = spec_add(spec, start, response + extra_minutes)
    ticket.response_warn_at = spec_add(spec, start, WARN_AT * response + extra_minutes)
    ticket.resolution_due_at = spec_add(spec, start, resolution + extra_minutes)
    ticket.resolution_warn_at = spec_add(spec, start, WARN_AT * resolution + extra_minutes)


def ticket_sla_start(ticket: Ticket, *, now: datetime) -> None:
    """Choose the ticket's calendar and SLA policy and set both deadlines and their warning
    moments, counted from `now` (not saved)."""
    ticket.calendar = ticket_calendar_for(ticket)
    ticket.sla_policy = ticket_sla_policy_for(ticket)
    _deadlines(ticket, calendar_spec(ticket.calendar), now, 0)


def ticket_sla_recompute(ticket: Ticket, *, now: datetime) -> None:
    """After a person changes the priority: the policy of the new priority, deadlines from
    `created_at` plus the business minutes already waited on the customer (read off the old
    resolution deadline and policy). Warning and breach marks stay: what happened, happened.
    `now` is when a wait still under way began counting (not saved)."""
    spec = calendar_spec(ticket.calendar)
    waited = 0
    old = ticket.sla_policy
    if old is not None and ticket.resolution_due_at is not None:
        planned = spec_between(spec, ticket.created_at, ticket.resolution_due_at)
        waited = max(0, planned // _MICROSECONDS_PER_MINUTE - old.resolution_minutes)
    ticket.sla_policy = ticket_sla_policy_for(ticket)
    _deadlines(ticket, spec, ticket.created_at, waited)


def ticket_sla_pause(ticket: Ticket, *, now: datetime) -> None:
    """Waiting on the customer begins: the clock stops (sets waiting_since; not saved)."""
    if ticket.waiting_since is None:
        ticket.waiting_since = now


def ticket_sla_resume(ticket: Ticket, *, now: datetime) -> None:
    """The wait ends: the deadlines still running when it began, and not met, move on by the
    business minutes waited, with their warning moments (not saved)."""
    since = ticket.waiting_since
    ticket.waiting_since = None
    if since is None:
        return
    spec = calendar_spec(ticket.calendar)
    waited = spec_between(spec, since, now) / _MICROSECONDS_PER_MINUTE
    if waited <= 0:
        return
    response_running = (
        ticket.first_responded_at is None
        and ticket.response_breached_at is None
        and ticket.first_response_due_at is not None
        and ticket.first_response_due_at > since
    )
    if response_running:
        ticket.first_response_due_at = spec_add(spec, ticket.first_response_due_at, waited)
        if ticket.response_warn_at is not None and ticket.response_warn_at > since:
            ticket.response_warn_at = spec_add(spec, ticket.response_warn_at, waited)
    resolution_running = (
        ticket.resolution_breached_at is None
        and ticket.resolution_due_at is not None
        and ticket.resolution_due_at > since
    )
    if resolution_running:
        ticket.resolution_due_at = spec_add(spec, ticket.resolution_due_at, waited)
        if ticket.resolution_warn_at is not None and ticket.resolution_warn_at > since:
            ticket.resolution_warn_at = spec_add(spec, ticket.resolution_warn_at, waited)


def business_minutes_since_opened(ticket: Ticket, moment: datetime) -> int:
    """Business minutes of the ticket's calendar from its opening to `moment` (for reports)."""
    return business_minutes_between(ticket.calendar, ticket.created_at, moment)
