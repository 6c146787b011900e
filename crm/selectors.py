"""Reads of customers and what they own. Visibility is decided here, once, for admin and API."""

import phonenumbers
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model, Q, QuerySet

from crm.models import (
    BalanceSnapshot,
    Customer,
    Interaction,
    ProductHolding,
    Segment,
    SourceRecord,
    TeamMembership,
    Transaction,
)

User = AbstractUser | AnonymousUser


def user_can_see_all_customers(user: User) -> bool:
    return bool(user.is_active and user.has_perm("crm.view_all_customers"))


def user_supervised_team_ids(user: User) -> list[int]:
    """The teams the user supervises; cached on the user object for the request."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_crm_supervised_team_ids", None)
    if cached is None:
        cached = list(
            TeamMembership.objects.filter(
                user_id=user.pk, role=TeamMembership.Role.SUPERVISOR
            ).values_list("team_id", flat=True)
        )
        setattr(user, "_crm_supervised_team_ids", cached)  # noqa: B010
    return cached


def customer_visibility_q(user: User, *, prefix: str = "") -> Q:
    """Which customers a user may see: their own, their supervised teams', or all.

    `prefix` is the path to the customer from another model, e.g. "customer__".
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user_can_see_all_customers(user):
        return Q()
    own = Q(**{f"{prefix}owner": user})
    team_ids = user_supervised_team_ids(user)
    if not team_ids:
        return own
    in_teams = Q(**{f"{prefix}team__in": team_ids})
    # "owner OR team" keeps PostgreSQL from walking the (team, newest) index and can cost a
    # second on a rare search at a million rows; a supervisor's own customers are nearly
    # always in their teams already, so the OR is added only when they are not.
    if _user_owns_customers_outside(user, team_ids):
        return own | in_teams
    return in_teams


def _user_owns_customers_outside(user: User, team_ids: list[int]) -> bool:
    cached = getattr(user, "_crm_owns_outside_teams", None)
    if cached is None:
        cached = Customer.objects.filter(owner_id=user.pk).exclude(team_id__in=team_ids).exists()
        setattr(user, "_crm_owns_outside_teams", cached)  # noqa: B010
    return cached


def customer_list(*, user: User) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visibility_q(user))


def customer_get(*, user: User, customer_id: int) -> Customer:
    """The customer if the user may see it, else `Customer.DoesNotExist` (a 404, not a 403)."""
    return customer_list(user=user).get(pk=customer_id)


def phone_normalize(text: str, *, region: str = "CN") -> str | None:
    """E.164 for anything that reads as a valid phone number (`+86 138-0013-8000`), else None."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def customer_search(queryset: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """Search the way an RM types: an e-mail, a phone number, an external id or part of a name.

    E-mails, phones and external ids match exactly (indexed); anything else is part of a name
    (trigram-indexed on PostgreSQL). External ids are looked up first, on their own: an
    "id OR name" condition makes PostgreSQL's planner give up the trigram index.
    """
    term = term.strip()
    if not term:
        return queryset
    if "@" in term:
        return queryset.filter(email=term.lower())
    phone = phone_normalize(term)
    if phone:
        return queryset.filter(phone=phone)
    by_external_id = list(
        SourceRecord.objects.filter(external_id=term).values_list("customer_id", flat=True)[:100]
    )
    if by_external_id:
        return queryset.filter(pk__in=by_external_id)
    return queryset.filter(name__icontains=term)


def customer_owned_rows(model: type[Model], *, user: User) -> QuerySet:
    """Rows of a model that belongs to a customer (transactions, holdings...) the user may see."""
    return model._default_manager.filter(customer_visibility_q(user, prefix="customer__"))


def transaction_list(*, user: User) -> QuerySet[Transaction]:
    return customer_owned_rows(Transaction, user=user)


def customer_recent_transactions(*, customer: Customer, limit: int = 20) -> list[Transaction]:
    return list(customer.transactions.order_by("-occurred_at", "-id")[:limit])


def customer_recent_interactions(*, customer: Customer, limit: int = 20) -> list[Interaction]:
    return list(
        customer.interactions.select_related("staff").order_by("-occurred_at", "-id")[:limit]
    )


def customer_recent_balances(*, customer: Customer, limit: int = 14) -> list[BalanceSnapshot]:
    return list(customer.balances.order_by("-date")[:limit])


def customer_open_holdings(*, customer: Customer, limit: int = 20) -> list[ProductHolding]:
    return list(customer.holdings.filter(closed_on__isnull=True)[:limit])


def customer_source_records(*, customer: Customer) -> list[SourceRecord]:
    return list(customer.source_records.order_by("source", "external_id")[:50])


def table_row_estimate(model: type[Model]) -> int | None:
    """PostgreSQL's planner estimate of a table's rows (free), or None where there is none."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


def segment_customer_list(*, segment: Segment, user: User) -> QuerySet[Customer]:
    """The customers a segment's saved filter selects today, among those the user may see."""
    from crm.filters import CustomerFilter, filter_errors_text

    customer_filter = CustomerFilter(data=segment.definition, queryset=customer_list(user=user))
    if not customer_filter.is_valid():
        raise ValidationError(
            {
                "definition": ValidationError(
                    filter_errors_text(customer_filter.errors), code="invalid_segment"
                )
            }
        )
    return customer_filter.qs
