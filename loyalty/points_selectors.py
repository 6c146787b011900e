"""Reads of the points ledger for the customer's page, the admin and the API.

Every read is scoped by crm's one visibility rule and costs a fixed number of queries whatever
the customer's history: balances are the accounts' cached totals (proved by verify_ledger),
what expires soon is one grouped sum over the open lots' partial index.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from crm.models import Customer
from crm.selectors import User, customer_visibility_q
from loyalty.models import PointsAccount, PointsEntry, PointsLot


@dataclass(frozen=True)
class Expiring:
    expires_on: date
    points: int


@dataclass
class AccountSummary:
    account: PointsAccount
    expiring: list[Expiring] = field(default_factory=list)

    @property
    def program(self):
        return self.account.program

    @property
    def balance(self) -> int:
        return self.account.balance

    @property
    def expiring_soon(self) -> int:
        return sum(item.points for item in self.expiring)


def points_expiring_until(as_of: date | None = None) -> date:
    """The last day counted as "expiring soon" (LOYALTY_EXPIRING_SOON_DAYS from today)."""
    return (as_of or timezone.localdate()) + timedelta(days=settings.LOYALTY_EXPIRING_SOON_DAYS)


def points_summary(*, customer: Customer, as_of: date | None = None) -> list[AccountSummary]:
    """Each of the customer's accounts with its balance and its open points by expiry date
    within LOYALTY_EXPIRING_SOON_DAYS days: two queries."""
    as_of = as_of or timezone.localdate()
    accounts = list(
        PointsAccount.objects.filter(customer=customer)
        .select_related("program")
        .order_by("program__name", "program_id")
    )
    summaries = {account.pk: AccountSummary(account) for account in accounts}
    if not summaries:
        return []
    rows = (
        PointsLot.objects.filter(
            account_id__in=list(summaries),
            remaining__gt=0,
            expires_on__gte=as_of,
            expires_on__lte=points_expiring_until(as_of),
        )
        .values("account_id", "expires_on")
        .annotate(points=Sum("remaining"))
        .order_by("account_id", "expires_on")
    )
    for row in rows:
        summaries[row["account_id"]].expiring.append(
            Expiring(expires_on=row["expires_on"], points=int(row["points"]))
        )
    return list(summaries.values())


def points_account_get(*, user: User, customer_id: int, program_code: str) -> PointsAccount | None:
    """The customer's account in the program with its program, if the user may see the
    customer; None otherwise (no such account, program or customer, or not theirs to see).
    One query: the API's hot path."""
    return (
        PointsAccount.objects.filter(
            customer_visibility_q(user, prefix="customer__"),
            customer_id=customer_id,
            program__code=program_code,
        )
        .select_related("program")
        .first()
    )


def points_entries(*, account_id: int) -> QuerySet[PointsEntry]:
    """An account's entries, newest first (the (account, id) index)."""
    return PointsEntry.objects.filter(account_id=account_id).order_by("-id")


def points_entries_recent(*, account_ids: list[int], limit: int) -> list[PointsEntry]:
    """The newest entries of the accounts (a customer's), with their program: one query."""
    if not account_ids:
        return []
    return list(
        PointsEntry.objects.filter(account_id__in=account_ids)
        .select_related("account__program")
        .order_by("-id")[:limit]
    )


def points_entry_list(*, user: User) -> QuerySet[PointsEntry]:
    """Entries of the customers the user may see."""
    return PointsEntry.objects.filter(customer_visibility_q(user, prefix="account__customer__"))
