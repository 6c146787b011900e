"""Points expiry: every open lot whose day has come expires, oldest first, in set-based SQL.

A lot (what is left of an earning) with `expires_on <= as_of` and points remaining gets one
EXPIRE entry for what remains (key `expire:<lot id>`, so a lot expires once), one allocation
from that lot, its remaining set to 0, and its account's balance lowered by the sum; balances
stay >= 0, since an account with an open lot has a balance of at least its open lots.

The work goes in batches of account id ranges, each its own transaction: the batch first
locks its accounts (those with a lot due) in id order, then touches their lots, the same
order as every posting (loyalty.services.ledger: account, then lots), so expiry and a
redemption never deadlock and never both take the same points. A batch holds at most
`batch_accounts` account locks, for a few statements; a crash leaves the finished batches
done and the rest to the next run, and a second run finds nothing due: the lots it would
expire have nothing left.

Each batch is five statements, whatever the number of lots: the lock, INSERT ... SELECT of
the entries (oldest lot first, so entry ids follow the order the points lapsed), INSERT ...
SELECT of the allocations (joined back through the entries' unique keys), UPDATE ... FROM of
the balances, UPDATE of the lots. Which lots are due is read from the open-lot indexes: the
range of accounts from `points_lot_open_by_expiry`, a batch's lots from
`points_lot_open_by_account`.
"""

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from loyalty.models import PointsAccount, PointsAllocation, PointsEntry, PointsLot
from loyalty.scratch import adapt

logger = logging.getLogger(__name__)

ACCOUNTS = PointsAccount._meta.db_table
ENTRIES = PointsEntry._meta.db_table
LOTS = PointsLot._meta.db_table
ALLOCATIONS = PointsAllocation._meta.db_table
EXPIRE = PointsEntry.Kind.EXPIRE.value

DEFAULT_BATCH_ACCOUNTS = 5_000

# A lot that has expired, or will at the next run: open and its day come.
DUE = "l.remaining > 0 AND l.expires_on <= %s"


@dataclass(frozen=True)
class ExpiryResult:
    accounts: int = 0
    lots: int = 0
    points: int = 0
    batches: int = 0

    def __add__(self, other: "ExpiryResult") -> "ExpiryResult":
        return ExpiryResult(
            accounts=self.accounts + other.accounts,
            lots=self.lots + other.lots,
            points=self.points + other.points,
            batches=self.batches + other.batches,
        )


def points_expire(*, as_of: date, batch_accounts: int = DEFAULT_BATCH_ACCOUNTS) -> ExpiryResult:
    """Expire every open lot with `expires_on <= as_of`; safe to run again (it finds nothing).

    Not one transaction on purpose: each batch of accounts commits on its own (see above).
    """
    if batch_accounts < 1:
        raise ValueError("A batch holds at least one account.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(l.account_id), MAX(l.account_id) FROM {LOTS} l WHERE {DUE}",  # noqa: S608
            [adapt(as_of)],
        )
        low, high = cursor.fetchone()
    result = ExpiryResult()
    if low is None:
        return result
    for start in range(low, high + 1, batch_accounts):
        done = _batch_expire(as_of=as_of, first=start, last=start + batch_accounts - 1)
        result += done
    logger.info(
        "points expired as of %s: %s lots, %s points, %s accounts, %s batches",
        as_of,
        result.lots,
        result.points,
        result.accounts,
        result.batches,
    )
    return result


@transaction.atomic
def _batch_expire(*, as_of: date, first: int, last: int) -> ExpiryResult:
    """One batch, one transaction: the due lots of the accounts with ids first..last."""
    day = adapt(as_of)
    account_ids = _accounts_lock(day=day, first=first, last=last)
    if not account_ids:
        return ExpiryResult()
    # Only the locked accounts from here on: a lot opened since the lock on an account that
    # had none due is left for the next run, never touched without its account's lock.
    ids_sql, ids_param = _ids_in(account_ids)
    due = f"{DUE} AND l.account_id {ids_sql}"
    now = adapt(timezone.now())
    with connection.cursor() as cursor:
        # The points lapsed on the lot's day, whichever day the run is: a late run posts the same.
        cursor.execute(
            f"""
            INSERT INTO {ENTRIES} (account_id, kind, points, key, fingerprint, occurred_on,
                                   note, details, created_at)
            SELECT l.account_id, %s, -l.remaining, 'expire:' || l.entry_id, '', l.expires_on,
                   '', '{{}}', %s
            FROM {LOTS} l WHERE {due}
            ORDER BY l.account_id, l.expires_on, l.entry_id
            RETURNING points
            """,  # noqa: S608
            [EXPIRE, now, day, ids_param],
        )
        expired = [-row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"""
            INSERT INTO {ALLOCATIONS} (entry_id, lot_id, points)
            SELECT e.id, l.entry_id, l.remaining
            FROM {LOTS} l JOIN {ENTRIES} e ON e.key = 'expire:' || l.entry_id
            WHERE {due}
            """,  # noqa: S608
            [day, ids_param],
        )
        cursor.execute(
            f"""
            UPDATE {ACCOUNTS} SET balance = {ACCOUNTS}.balance - d.points
            FROM (SELECT l.account_id, SUM(l.remaining) AS points
                  FROM {LOTS} l WHERE {due} GROUP BY l.account_id) d
            WHERE {ACCOUNTS}.id = d.account_id
            """,  # noqa: S608
            [day, ids_param],
        )
        cursor.execute(
            f"UPDATE {LOTS} SET remaining = 0"  # noqa: S608
            f" WHERE entry_id IN (SELECT l.entry_id FROM {LOTS} l WHERE {due})",
            [day, ids_param],
        )
    return ExpiryResult(
        accounts=len(account_ids), lots=len(expired), points=sum(expired), batches=1
    )


def _accounts_lock(*, day: Any, first: int, last: int) -> list[int]:
    """Lock the range's accounts with a lot due, in id order, like a posting would (the
    account's row first). SQLite has no row locks: the IMMEDIATE transaction already holds
    the database's write lock."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id FROM {ACCOUNTS} a
            WHERE a.id BETWEEN %s AND %s
              AND EXISTS (SELECT 1 FROM {LOTS} l WHERE l.account_id = a.id AND {DUE})
            ORDER BY a.id{lock}
            """,  # noqa: S608
            [first, last, day],
        )
        return [row[0] for row in cursor.fetchall()]


def _ids_in(ids: list[int]) -> tuple[str, Any]:
    """`IN` a list of ids as one parameter, however long: an array on PostgreSQL, a JSON
    array read by json_each on SQLite."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", ids
    return "IN (SELECT value FROM json_each(%s))", json.dumps(ids)
