"""Reads of tickets. Who may see a ticket is decided here, once, for admin and API."""

from django.db.models import Q, QuerySet

from crm.selectors import User, user_can_see_all_customers, user_supervised_team_ids
from workflows.models import Ticket


def ticket_visibility_q(user: User, *, prefix: str = "") -> Q:
    """Which tickets a user may see: those of the customers they own (an RM), of the teams they
    supervise (the ticket's team, the customer's when it was opened), and those assigned to
    them (an agent); all for a user who may see all customers.

    `prefix` is the path to the ticket from another model, e.g. "ticket__".
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user_can_see_all_customers(user):
        return Q()
    visible = Q(**{f"{prefix}customer__owner": user}) | Q(**{f"{prefix}assignee": user})
    team_ids = user_supervised_team_ids(user)
    if team_ids:
        visible |= Q(**{f"{prefix}team__in": team_ids})
    return visible


def ticket_list(*, user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(ticket_visibility_q(user))


def ticket_get(*, user: User, ticket_id: int) -> Ticket:
    """The ticket if the user may see it, else `Ticket.DoesNotExist` (a 404, not a 403)."""
    return ticket_list(user=user).get(pk=ticket_id)
