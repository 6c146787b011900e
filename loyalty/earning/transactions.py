"""The earning pass over a set of new transactions: earn, referral commissions, refunds.

A fixed number of statements whatever the number of transactions (about fifteen), except for
refunds, which reverse through `ledger.debit` one refund at a time: refunds are rare (a few per
thousand transactions) and each costs a handful of queries.
"""

from datetime import datetime
from typing import Any

from django.db import connection

from loyalty.earning.clock import day_of
from loyalty.earning.posting import (
    ACCOUNTS,
    EARN,
    ENTRIES,
    POSTING_TABLE,
    accounts_open_and_lock,
    greatest,
    least,
    posting_apply,
    scratch_tables,
)
from loyalty.earning.referrals import REFERRALS, referral_commissions_post
from loyalty.earning.refunds import refunds_reverse
from loyalty.earning.rules import ProgramRules, program_rules_load
from loyalty.earning.sql import EARN_TABLE, earn_fill_sql
from loyalty.models import Program
from loyalty.services.ledger import expiry_for

EARN_COLUMNS = (
    "program_id {bigint}, transaction_id {bigint}, customer_id {bigint},"
    " occurred_at {datetime}, local_day {bigint}, rule_points {bigint}, bonus_points {bigint},"
    " cap {bigint}, rules {text}, occurred_on {date}, expires_on {date}"
)
EARNS = "(s.rule_points + s.bonus_points)"
KEY = "'earn:' || CAST(s.program_id AS TEXT) || ':' || CAST(s.transaction_id AS TEXT)"


def earn_key(program_id: int, transaction_id: int) -> str:
    return f"earn:{program_id}:{transaction_id}"


def transactions_earn_pass(*, transaction_ids: list[int], now: datetime) -> int:
    """Earn, pay referral commissions and reverse refunds for these new transactions; the
    number of earn entries created. The caller holds the transaction."""
    if not transaction_ids:
        return 0
    programs = [p for p in program_rules_load() if p.earns_on_transactions]
    created = 0
    if programs:
        with scratch_tables({EARN_TABLE: EARN_COLUMNS}):
            created = _earn(programs, transaction_ids, now=now)
            if created:
                referral_commissions_post(now=now)
    refunds_reverse(transaction_ids=transaction_ids)
    return created


def _earn(programs: list[ProgramRules], transaction_ids: list[int], *, now: datetime) -> int:
    sql, params = earn_fill_sql(programs, transaction_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(
            f"SELECT DISTINCT s.program_id, s.local_day FROM {EARN_TABLE} s WHERE {EARNS} > 0",  # noqa: S608
            [],
        )
        days = cursor.fetchall()
        if not days:
            return 0
        _dates_fill(cursor, programs, days)
    # The referrers a purchase of this batch may pay a commission to are locked with the
    # buyers, in one id order: locked later, two passes could wait on each other in a circle.
    accounts_open_and_lock(
        f"SELECT s.customer_id, s.program_id FROM {EARN_TABLE} s WHERE {EARNS} > 0"  # noqa: S608
        f" UNION SELECT r.referrer_id, r.program_id FROM {REFERRALS} r JOIN {EARN_TABLE} s"
        " ON s.customer_id = r.referred_id AND s.program_id = r.program_id"
        f" WHERE r.commission_entry_id IS NULL AND {EARNS} > 0",
        [],
        now=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(*_posting_fill_sql())
    return posting_apply(now=now)


def _dates_fill(cursor, programs: list[ProgramRules], days: list[tuple[int, int]]) -> None:
    """The local day and the expiry of each (program, local day) of the batch, computed here
    by `ledger.expiry_for` (month arithmetic differs between the databases): one executemany."""
    months = {program.program_id: program.points_expiry_months for program in programs}
    rows: list[list[Any]] = []
    for program_id, day_number in days:
        day = day_of(int(day_number))
        expires_on = expiry_for(Program(points_expiry_months=months[program_id]), day)
        rows.append(
            [
                connection.ops.adapt_datefield_value(day),
                connection.ops.adapt_datefield_value(expires_on),
                program_id,
                day_number,
            ]
        )
    cursor.executemany(
        f"UPDATE {EARN_TABLE} SET occurred_on = %s, expires_on = %s"  # noqa: S608
        " WHERE program_id = %s AND local_day = %s",
        rows,
    )


def _posting_fill_sql() -> tuple[str, list[Any]]:
    """The posting rows: what each transaction earns after the daily cap.

    The cap counts, per customer, program and local day, what the day's earn entries already
    hold plus a running sum over the batch ordered by (occurred_at, id). Transactions earned
    before (a batch sent again) are left out of both.
    """
    held = (
        f"SELECT e.account_id, e.occurred_on, SUM(e.points) AS held FROM {ENTRIES} e"  # noqa: S608 (table names and rule numbers, values are parameters)
        f" WHERE e.kind = %s AND e.key LIKE %s AND e.account_id IN (SELECT a.id FROM {ACCOUNTS} a"
        f" JOIN {EARN_TABLE} s ON s.customer_id = a.customer_id AND s.program_id = a.program_id)"
        f" AND e.occurred_on IN (SELECT s.occurred_on FROM {EARN_TABLE} s)"
        " GROUP BY e.account_id, e.occurred_on"
    )
    allowed = greatest("c.cap - c.held - (c.running - c.earns)", "0")
    points = f"CASE WHEN c.cap IS NULL THEN c.earns ELSE {least('c.earns', allowed)} END"
    details = (
        "'{\"rules\": [' || SUBSTR(f.rules, 2) || '], \"rule_points\": '"
        " || CAST(f.rule_points AS TEXT) || ', \"bonus_points\": ' || CAST(f.bonus_points AS TEXT)"
        " || ', \"capped\": ' || CAST(f.earns - f.points AS TEXT) || '}'"
    )
    sql = (
        f"INSERT INTO {POSTING_TABLE} (account_id, customer_id, program_id, key, points,"  # noqa: S608
        " occurred_on, expires_on, transaction_id, details, sort_key)"
        f" SELECT f.account_id, f.customer_id, f.program_id, f.key, f.points, f.occurred_on,"
        f" f.expires_on, f.transaction_id, {details}, f.transaction_id FROM ("
        f" SELECT c.*, {points} AS points FROM ("
        f" SELECT s.*, a.id AS account_id, {KEY} AS key, {EARNS} AS earns,"
        " COALESCE(h.held, 0) AS held,"
        f" SUM({EARNS}) OVER (PARTITION BY s.program_id, s.customer_id, s.local_day"
        " ORDER BY s.occurred_at, s.transaction_id ROWS UNBOUNDED PRECEDING) AS running"
        f" FROM {EARN_TABLE} s JOIN {ACCOUNTS} a"
        " ON a.customer_id = s.customer_id AND a.program_id = s.program_id"
        f" LEFT JOIN ({held}) h ON h.account_id = a.id AND h.occurred_on = s.occurred_on"
        f" WHERE {EARNS} > 0 AND NOT EXISTS (SELECT 1 FROM {ENTRIES} x WHERE x.key = {KEY})"
        ") c) f WHERE f.points > 0"
    )
    return sql, [EARN, "earn:%"]
