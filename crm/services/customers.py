"""Writes of customers: creation, profile changes and who looks after them."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.utils import update_change_reason

from crm.models import Customer, Team, TeamMembership
from crm.selectors import user_can_see_all_customers, user_supervised_team_ids

PROFILE_FIELDS = ("kind", "name", "phone", "email", "birth_date", "is_student", "status")


def customer_assignment_validate(*, actor, owner, team: Team | None) -> None:
    """An RM may only give customers to themselves, in their own team; a supervisor to the
    RMs and teams they supervise; staff who see every customer to anyone, or to no one."""
    if user_can_see_all_customers(actor):
        return
    supervised = user_supervised_team_ids(actor)
    # Nobody but staff who see everyone may leave a customer without an RM: it would vanish
    # from every RM's and supervisor's list.
    owner_allowed = owner is not None and (
        owner == actor or TeamMembership.objects.filter(user=owner, team_id__in=supervised).exists()
    )
    if not owner_allowed:
        message = _("You cannot assign customers to this relationship manager.")
        raise ValidationError({"owner": ValidationError(message, code="owner_not_allowed")})
    team_allowed = (
        team is None
        or team.pk in supervised
        or TeamMembership.objects.filter(user=actor, team=team).exists()
    )
    if not team_allowed:
        message = _("You cannot assign customers to this team.")
        raise ValidationError({"team": ValidationError(message, code="team_not_allowed")})


def _default_team_for(user) -> Team | None:
    membership = TeamMembership.objects.filter(user=user).select_related("team").first()
    return membership.team if membership else None


@transaction.atomic
def customer_create(*, actor, owner=None, team: Team | None = None, **profile: Any) -> Customer:
    """Create a customer. Without an owner the acting RM owns it, in their team."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown customer fields: {sorted(unknown)}")
    if owner is None and not user_can_see_all_customers(actor):
        owner = actor
    if team is None and owner is not None:
        team = _default_team_for(owner)
    customer_assignment_validate(actor=actor, owner=owner, team=team)
    customer = Customer(owner=owner, team=team, **profile)
    customer.full_clean()
    customer._history_user = actor  # type: ignore[attr-defined]
    customer.save()
    return customer


@transaction.atomic
def customer_update(*, actor, customer_id: int, reason: str = "", **changes: Any) -> Customer:
    """Change a customer's profile or assignment; the change is kept in history with the actor."""
    allowed = set(PROFILE_FIELDS) | {"owner", "team"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Unknown customer fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    if "owner" in changes or "team" in changes:
        customer_assignment_validate(
            actor=actor,
            owner=changes.get("owner", customer.owner),
            team=changes.get("team", customer.team),
        )
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.full_clean()
    customer._history_user = actor  # type: ignore[attr-defined]
    customer.save()
    if reason:
        update_change_reason(customer, reason)
    return customer
