"""Proof that what the ledger derives (balances, lots, allocations) equals its entries.

Each check is one set-based statement (a GROUP BY or two, a full scan: seconds over 5 million
entries, never a query per account) that returns how many rows are broken and the ids of a few
of them. `manage.py verify_ledger` prints them; the race and property tests assert that
`ledger_discrepancies()` is empty after their work.
"""

from dataclasses import dataclass

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from loyalty.models import PointsAccount, PointsAllocation, PointsEntry, PointsLot

EXAMPLES = 5

_TABLES = {
    "account": PointsAccount._meta.db_table,
    "entry": PointsEntry._meta.db_table,
    "lot": PointsLot._meta.db_table,
    "allocation": PointsAllocation._meta.db_table,
}


@dataclass(frozen=True)
class Check:
    name: str
    description: str | Promise
    # Selects the ids of the broken rows (one column, "id").
    sql: str


CHECKS = (
    Check(
        "balance_equals_entries",
        _("Accounts whose balance is not the sum of their entries"),
        """
        SELECT a.id FROM {account} a
        LEFT JOIN (SELECT account_id, SUM(points) AS total FROM {entry} GROUP BY account_id) e
            ON e.account_id = a.id
        WHERE a.balance <> COALESCE(e.total, 0)
        """,
    ),
    Check(
        "lots_equal_balance",
        _("Accounts whose open lots do not add up to their balance (or zero when negative)"),
        """
        SELECT a.id FROM {account} a
        LEFT JOIN (SELECT account_id, SUM(remaining) AS total FROM {lot} GROUP BY account_id) l
            ON l.account_id = a.id
        WHERE COALESCE(l.total, 0) <> CASE WHEN a.balance > 0 THEN a.balance ELSE 0 END
        """,
    ),
    Check(
        "lot_remaining_equals_allocations",
        _("Lots whose remaining points are not their initial points less their allocations"),
        """
        SELECT l.entry_id AS id FROM {lot} l
        LEFT JOIN (SELECT lot_id, SUM(points) AS taken FROM {allocation} GROUP BY lot_id) t
            ON t.lot_id = l.entry_id
        WHERE l.remaining <> l.initial - COALESCE(t.taken, 0)
        """,
    ),
    Check(
        "lot_within_entry",
        _("Lots that hold more than their entry's points, or belong to another account"),
        """
        SELECT l.entry_id AS id FROM {lot} l JOIN {entry} e ON e.id = l.entry_id
        WHERE l.initial > e.points OR l.account_id <> e.account_id
        """,
    ),
    Check(
        "reversed_within_points",
        _("Entries reversed by more points than they had"),
        """
        SELECT e.id FROM {entry} e
        JOIN (
            SELECT reverses_id, SUM(ABS(points)) AS reversed FROM {entry}
            WHERE reverses_id IS NOT NULL GROUP BY reverses_id
        ) r ON r.reverses_id = e.id
        WHERE r.reversed > ABS(e.points)
        """,
    ),
    Check(
        "allocations_within_entry",
        _("Entries whose allocations took more than their points, or from a positive entry"),
        """
        SELECT e.id FROM {entry} e
        JOIN (SELECT entry_id, SUM(points) AS taken FROM {allocation} GROUP BY entry_id) t
            ON t.entry_id = e.id
        WHERE e.points > 0 OR t.taken > -e.points
        """,
    ),
)


@dataclass(frozen=True)
class Result:
    check: Check
    count: int
    examples: list[int]

    @property
    def is_broken(self) -> bool:
        return self.count > 0


def ledger_check() -> list[Result]:
    """Every check's result, broken or not: one statement each."""
    results = []
    with connection.cursor() as cursor:
        for check in CHECKS:
            # The count and a few ids in one statement; the ids are the lowest, so a repeated
            # run shows the same examples.
            cursor.execute(
                f"SELECT id, COUNT(*) OVER () FROM ({check.sql.format(**_TABLES)}) AS broken "  # noqa: S608
                f"ORDER BY id LIMIT {EXAMPLES}"
            )
            rows = cursor.fetchall()
            results.append(
                Result(check, count=rows[0][1] if rows else 0, examples=[row[0] for row in rows])
            )
    return results


def ledger_discrepancies() -> list[Result]:
    """What is broken; empty when every derived figure equals the entries."""
    return [result for result in ledger_check() if result.is_broken]
