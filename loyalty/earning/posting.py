"""Set-based postings of earned points: a fixed number of statements for any number of rows.

The ledger's invariants (`loyalty/models/points.py`) are kept as `loyalty.services.ledger`
keeps them one entry at a time:
1. the accounts are opened (`INSERT ... ON CONFLICT DO NOTHING`) and locked in id order
   (`SELECT ... FOR UPDATE`; on SQLite the IMMEDIATE transaction is the lock) before anything
   is computed from their entries (the daily cap);
2. the entries go in under their unique keys (`ON CONFLICT (key) DO NOTHING`): work done
   before is not done again. The new entries are the scratch's keys with this pass's
   `created_at`;
3. each new entry opens a lot for what is left once a negative balance is paid off: a running
   sum per account over the new entries, in id order, starting from the account's balance;
4. one UPDATE moves each account's cached balance by the sum of its new entries.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, DateField, DateTimeField, TextField

from loyalty.models import PointsAccount, PointsEntry, PointsLot

POSTING_TABLE = "loyalty_posting_scratch"
EARN = PointsEntry.Kind.EARN.value

ACCOUNTS = PointsAccount._meta.db_table
ENTRIES = PointsEntry._meta.db_table
LOTS = PointsLot._meta.db_table


def least(*expressions: str) -> str:
    return f"{'LEAST' if connection.vendor == 'postgresql' else 'MIN'}({', '.join(expressions)})"


def greatest(*expressions: str) -> str:
    name = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{name}({', '.join(expressions)})"


def json_sql(expression: str) -> str:
    return f"CAST({expression} AS jsonb)" if connection.vendor == "postgresql" else expression


def adapt(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return connection.ops.adapt_datefield_value(value)


def column_types() -> dict[str, str]:
    return {
        "bigint": str(BigIntegerField().db_type(connection)),
        "date": str(DateField().db_type(connection)),
        "datetime": str(DateTimeField().db_type(connection)),
        "text": str(TextField().db_type(connection)),
    }


@contextmanager
def scratch_tables(definitions: dict[str, str]) -> Iterator[None]:
    """Temporary tables {name: column definitions (with {bigint} etc.)} for one pass, and the
    posting table; dropped afterwards (also when a pass runs twice in one transaction)."""
    types = column_types()
    tables = {
        **definitions,
        POSTING_TABLE: (
            "account_id {bigint}, customer_id {bigint}, program_id {bigint}, key {text},"
            " points {bigint}, occurred_on {date},"
            " expires_on {date}, transaction_id {bigint}, details {text}, sort_key {bigint}"
        ),
    }
    with connection.cursor() as cursor:
        for name, columns in tables.items():
            cursor.execute(f"DROP TABLE IF EXISTS {name}", [])
            cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns.format(**types)})", [])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {name}", [])


def accounts_open_and_lock(pairs_sql: str, params: list[Any], *, now: datetime) -> None:
    """Open the accounts of the (customer_id, program_id) rows of `pairs_sql` and lock them."""
    with connection.cursor() as cursor:
        # "WHERE 1 = 1": SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
        cursor.execute(
            f"INSERT INTO {ACCOUNTS} (customer_id, program_id, balance, created_at)"  # noqa: S608
            f" SELECT DISTINCT p.customer_id, p.program_id, 0, %s FROM ({pairs_sql}) p"
            " WHERE 1 = 1 ON CONFLICT (customer_id, program_id) DO NOTHING",
            [adapt(now), *params],
        )
        if connection.vendor == "postgresql":
            # In id order, like every other locker of several accounts: no deadlock between two.
            cursor.execute(
                f"SELECT a.id FROM {ACCOUNTS} a WHERE EXISTS (SELECT 1 FROM ({pairs_sql}) p"  # noqa: S608
                " WHERE p.customer_id = a.customer_id AND p.program_id = a.program_id)"
                " ORDER BY a.id FOR UPDATE",
                params,
            )


def posting_rows_add(rows: list[dict[str, Any]]) -> None:
    """Rows computed in Python (reviews, referral commissions) into the posting table: one
    `executemany`, then their accounts opened, locked and filled in."""
    if not rows:
        return
    columns = (
        "customer_id",
        "program_id",
        "key",
        "points",
        "occurred_on",
        "expires_on",
        "transaction_id",
        "details",
        "sort_key",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {POSTING_TABLE}", [])  # noqa: S608
        cursor.executemany(
            f"INSERT INTO {POSTING_TABLE} ({', '.join(columns)})"  # noqa: S608
            f" VALUES ({', '.join(['%s'] * len(columns))})",
            [
                [
                    adapt(row[column]) if column in ("occurred_on", "expires_on") else row[column]
                    for column in columns
                ]
                for row in rows
            ],
        )


def posting_accounts_fill(*, now: datetime) -> None:
    """Open and lock the accounts of the posting table's rows, and set their ids."""
    accounts_open_and_lock(
        f"SELECT customer_id, program_id FROM {POSTING_TABLE}",  # noqa: S608
        [],
        now=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {POSTING_TABLE} SET account_id = (SELECT a.id FROM {ACCOUNTS} a"  # noqa: S608
            f" WHERE a.customer_id = {POSTING_TABLE}.customer_id"
            f" AND a.program_id = {POSTING_TABLE}.program_id)",
            [],
        )


def posting_apply(*, now: datetime, note: str = "") -> int:
    """Post the posting table's rows (points > 0) as earn entries with lots; the number of new
    entries. Rows whose key is posted already add nothing."""
    new_entries = f"SELECT e.id FROM {ENTRIES} e JOIN {POSTING_TABLE} p ON p.key = e.key"  # noqa: S608 (table names and rule numbers, values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ENTRIES} (account_id, kind, points, key, fingerprint, occurred_on,"  # noqa: S608
            " expires_on, transaction_id, note, details, created_at)"
            f" SELECT account_id, %s, points, key, '', occurred_on, expires_on, transaction_id,"
            f" %s, {json_sql('details')}, %s FROM {POSTING_TABLE} WHERE points > 0"
            " ORDER BY sort_key, key ON CONFLICT (key) DO NOTHING",
            [EARN, note, adapt(now)],
        )
        created = cursor.rowcount
        if not created:
            return 0
        new = f"{new_entries} WHERE e.created_at = %s"
        running = (
            "SUM(e.points) OVER (PARTITION BY e.account_id ORDER BY e.id ROWS UNBOUNDED PRECEDING)"
        )
        cursor.execute(
            f"INSERT INTO {LOTS} (entry_id, account_id, initial, remaining, expires_on)"  # noqa: S608
            " SELECT id, account_id, initial, initial, expires_on FROM ("
            f" SELECT n.id, n.account_id, n.expires_on,"
            f" {least('n.points', greatest('n.balance + n.running', '0'))} AS initial FROM ("
            f" SELECT e.id, e.account_id, e.expires_on, e.points, a.balance, {running} AS running"
            f" FROM {ENTRIES} e JOIN {ACCOUNTS} a ON a.id = e.account_id"
            f" WHERE e.id IN ({new})) n) lots WHERE initial > 0",
            [adapt(now)],
        )
        cursor.execute(
            f"UPDATE {ACCOUNTS} SET balance = balance + (SELECT SUM(e.points) FROM {ENTRIES} e"  # noqa: S608
            f" WHERE e.account_id = {ACCOUNTS}.id AND e.id IN ({new}))"
            f" WHERE id IN (SELECT e.account_id FROM {ENTRIES} e WHERE e.id IN ({new}))",
            [adapt(now), adapt(now)],
        )
    return created
