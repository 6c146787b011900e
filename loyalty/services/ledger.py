"""Postings to the points ledger: the only code that writes entries, lots and allocations.

Every posting, in one transaction:
1. moves the account's cached balance with one `UPDATE ... RETURNING` that also takes the
   account's row lock (on SQLite the IMMEDIATE transaction is the lock) and, for a spend,
   refuses to go below zero (`WHERE balance >= n`): no check-then-act;
2. inserts the entry under its unique key: the same work retried finds its entry and adds none;
3. keeps the lots: a positive entry opens a lot (less what pays off a negative balance); a
   negative one takes from the open lots, oldest expiry first (a reversal from its own lot
   first), and records what it took in allocations.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.models import PointsAccount, PointsAllocation, PointsEntry, PointsLot, Program
from loyalty.signals import points_posted

Kind = PointsEntry.Kind


class InsufficientPoints(ValidationError):
    def __init__(self, *, needed: int) -> None:
        super().__init__(
            _("Not enough points: %(needed)s are needed.") % {"needed": needed},
            code="insufficient_points",
        )


class KeyReused(ValidationError):
    """The key was used before for a different request."""

    def __init__(self) -> None:
        super().__init__(
            _("This idempotency key was already used for a different request."),
            code="idempotency_key_reused",
        )


@dataclass(frozen=True)
class Posting:
    entry: PointsEntry
    created: bool  # False: the key was posted before, this is that entry


def account_get_or_create(*, customer_id: int, program_id: int) -> PointsAccount:
    account = PointsAccount.objects.filter(customer_id=customer_id, program_id=program_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(customer_id=customer_id, program_id=program_id)
    except IntegrityError:  # opened by a concurrent posting
        return PointsAccount.objects.get(customer_id=customer_id, program_id=program_id)


def expiry_for(program: Program, earned_on: date) -> date:
    return earned_on + relativedelta(months=program.points_expiry_months)


def credit(
    *,
    account: PointsAccount,
    kind: str,
    points: int,
    key: str,
    expires_on: date,
    occurred_on: date | None = None,
    fingerprint: str = "",
    **fields: Any,
) -> Posting:
    """Add points (earn, a positive adjustment or reversal). Idempotent on `key`."""
    if points <= 0:
        raise ValueError("A credit adds points.")
    return _post(
        account=account,
        kind=kind,
        points=points,
        key=key,
        fingerprint=fingerprint,
        occurred_on=occurred_on,
        expires_on=expires_on,
        fields=fields,
    )


def debit(
    *,
    account: PointsAccount,
    kind: str,
    points: int,
    key: str,
    allow_negative: bool = False,
    first_lot_id: int | None = None,
    occurred_on: date | None = None,
    fingerprint: str = "",
    **fields: Any,
) -> Posting:
    """Take points (redeem, a negative adjustment or reversal). Idempotent on `key`.

    Without `allow_negative` it raises `InsufficientPoints` when the balance is short, and
    changes nothing. A reversal of an earning (a refund) allows a negative balance: it takes
    what is left of the earning's own lot (`first_lot_id`), then the oldest lots.
    """
    if points <= 0:
        raise ValueError("A debit takes points.")
    return _post(
        account=account,
        kind=kind,
        points=-points,
        key=key,
        fingerprint=fingerprint,
        occurred_on=occurred_on,
        allow_negative=allow_negative,
        first_lot_id=first_lot_id,
        fields=fields,
    )


def entry_for_key(key: str, fingerprint: str = "") -> PointsEntry | None:
    """The entry posted under `key`, or None; `KeyReused` if it was for a different request."""
    entry = PointsEntry.objects.filter(key=key).first()
    if entry is not None and fingerprint and entry.fingerprint != fingerprint:
        raise KeyReused()
    return entry


def _post(
    *,
    account: PointsAccount,
    kind: str,
    points: int,
    key: str,
    fingerprint: str,
    occurred_on: date | None,
    fields: dict[str, Any],
    expires_on: date | None = None,
    allow_negative: bool = False,
    first_lot_id: int | None = None,
) -> Posting:
    if points < 0:
        # A retried spend must find its entry before the balance check could refuse it; a
        # credit cannot be refused, so it learns of an earlier posting from the unique key.
        existing = entry_for_key(key, fingerprint)
        if existing is not None:
            return Posting(existing, created=False)
    try:
        with transaction.atomic():
            balance = _balance_move(account.pk, points, allow_negative=allow_negative)
            entry = PointsEntry.objects.create(
                account=account,
                kind=kind,
                points=points,
                key=key,
                fingerprint=fingerprint,
                occurred_on=occurred_on or timezone.localdate(),
                expires_on=expires_on,
                **fields,
            )
            if expires_on is not None:  # a credit
                _lot_open(entry, balance=balance, expires_on=expires_on)
            else:
                _lots_take(entry, points=min(-points, max(balance - points, 0)), first=first_lot_id)
            points_posted.send(sender=PointsEntry, entries=PointsEntry.objects.filter(pk=entry.pk))
    except IntegrityError:
        # A concurrent request posted the same key first (this one waited on the unique index).
        existing = entry_for_key(key, fingerprint)
        if existing is None:
            raise
        return Posting(existing, created=False)
    account.balance = balance
    return Posting(entry, created=True)


def _balance_move(account_id: int, points: int, *, allow_negative: bool) -> int:
    """Move the cached balance; the new balance, or `InsufficientPoints`. Takes the row lock."""
    table = PointsAccount._meta.db_table
    guard = "" if points >= 0 or allow_negative else " AND balance >= %s"
    params: list[Any] = [points, account_id] + ([] if not guard else [-points])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance = balance + %s WHERE id = %s{guard} RETURNING balance",  # noqa: S608
            params,
        )
        row = cursor.fetchone()
    if row is None:
        raise InsufficientPoints(needed=-points)
    return row[0]


def _lot_open(entry: PointsEntry, *, balance: int, expires_on: date) -> None:
    """A positive entry's lot: what is left once a negative balance is paid off."""
    initial = min(entry.points, max(balance, 0))
    if initial > 0:
        PointsLot.objects.create(
            entry=entry,
            account_id=entry.account_id,
            initial=initial,
            remaining=initial,
            expires_on=expires_on,
        )


def _lots_take(entry: PointsEntry, *, points: int, first: int | None) -> None:
    """Take `points` from the account's open lots: `first` (if open), then oldest expiry first."""
    if points <= 0:
        return
    lots = PointsLot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT entry_id, remaining, running FROM (
                SELECT entry_id, remaining, SUM(remaining) OVER (
                    ORDER BY CASE WHEN entry_id = %s THEN 0 ELSE 1 END, expires_on, entry_id
                ) AS running
                FROM {lots} WHERE account_id = %s AND remaining > 0
            ) AS open_lots
            WHERE running - remaining < %s
            ORDER BY running
            """,  # noqa: S608
            [first or 0, entry.account_id, points],
        )
        # SUM over a bigint is a numeric on PostgreSQL: back to int.
        taken = [
            (lot_id, int(min(remaining, points - (running - remaining))))
            for lot_id, remaining, running in cursor.fetchall()
        ]
    PointsAllocation.objects.bulk_create(
        PointsAllocation(entry=entry, lot_id=lot_id, points=amount) for lot_id, amount in taken
    )
    PointsLot.objects.filter(pk__in=[lot_id for lot_id, _amount in taken]).update(
        remaining=F("remaining")
        - Case(*(When(pk=lot_id, then=Value(amount)) for lot_id, amount in taken))
    )
