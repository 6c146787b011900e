"""Referral commissions, in the earning pass that earned the referred customer's first
qualifying purchase.

A qualifying purchase: a purchase made once the referral was recorded that earns points in the
referral's program. The first one (by occurred_at, id) among a pass's new earn entries decides;
the referrer earns rate x the points it earned, rounded down, where the rate is
`LOYALTY_REFERRAL_HIGH_RATE` when the referrer's current tier in the program has at least
`LOYALTY_REFERRAL_HIGH_RANK` stars, else `LOYALTY_REFERRAL_LOW_RATE`. Once per referral: the
key `referral:{id}`, and the referral's `qualifying_transaction` is set (guarded by IS NULL).
"""

from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import connection

from crm.models import Transaction
from loyalty.earning.posting import (
    ACCOUNTS,
    ENTRIES,
    POSTING_TABLE,
    posting_accounts_fill,
    posting_apply,
    posting_rows_add,
)
from loyalty.models import Membership, Referral, Tier

REFERRALS = Referral._meta.db_table


def referral_rate(rank: int) -> Decimal:
    if rank >= settings.LOYALTY_REFERRAL_HIGH_RANK:
        return Decimal(settings.LOYALTY_REFERRAL_HIGH_RATE)
    return Decimal(settings.LOYALTY_REFERRAL_LOW_RATE)


def referral_commission(*, earned: int, rank: int) -> int:
    return int((referral_rate(rank) * earned).to_integral_value(rounding=ROUND_FLOOR))


def referral_commissions_post(*, now: datetime) -> int:
    """Commissions for the referrals whose referred customer's purchase earned in this pass
    (the posting table's keys with this pass's created_at). A few statements in all."""
    transactions = Transaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, referrer_id, program_id, transaction_id, points, occurred_on,"  # noqa: S608
            " expires_on, referrer_rank FROM ("
            " SELECT r.id, r.referrer_id, r.program_id, e.transaction_id, e.points,"
            " e.occurred_on, e.expires_on, COALESCE(tier.rank, 0) AS referrer_rank,"
            " ROW_NUMBER() OVER (PARTITION BY r.id ORDER BY t.occurred_at, t.id) AS position"
            f" FROM {ENTRIES} e JOIN {POSTING_TABLE} p ON p.key = e.key"
            f" JOIN {ACCOUNTS} a ON a.id = e.account_id"
            f" JOIN {REFERRALS} r ON r.referred_id = a.customer_id"
            " AND r.program_id = a.program_id"
            f" JOIN {transactions} t ON t.id = e.transaction_id"
            f" LEFT JOIN {Membership._meta.db_table} ms"
            " ON ms.customer_id = r.referrer_id AND ms.program_id = r.program_id"
            f" LEFT JOIN {Tier._meta.db_table} tier ON tier.id = ms.tier_id"
            " WHERE e.created_at = %s AND r.qualifying_transaction_id IS NULL"
            " AND t.kind = %s AND t.occurred_at >= r.created_at"
            ") q WHERE position = 1",
            [
                connection.ops.adapt_datetimefield_value(now),
                Transaction.Kind.PURCHASE.value,
            ],
        )
        found = cursor.fetchall()
    if not found:
        return 0
    rows = []
    for referral_id, referrer_id, program_id, transaction_id, earned, on, expires, rank in found:
        commission = referral_commission(earned=int(earned), rank=int(rank))
        if commission > 0:
            rate = referral_rate(int(rank))
            rows.append(
                {
                    "customer_id": referrer_id,
                    "program_id": program_id,
                    "key": f"referral:{referral_id}",
                    "points": commission,
                    "occurred_on": _date(on),
                    "expires_on": _date(expires),
                    "transaction_id": transaction_id,
                    "details": (
                        f'{{"referral_id": {int(referral_id)}, "rate": "{rate}",'
                        f' "earned": {int(earned)}}}'
                    ),
                    "sort_key": transaction_id,
                }
            )
    created = 0
    if rows:
        posting_rows_add(rows)
        posting_accounts_fill(now=now)
        created = posting_apply(now=now)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {REFERRALS} SET qualifying_transaction_id = %s,"  # noqa: S608
            f" commission_entry_id = (SELECT e.id FROM {ENTRIES} e WHERE e.key = %s)"
            " WHERE id = %s AND qualifying_transaction_id IS NULL",
            [
                [transaction_id, f"referral:{referral_id}", referral_id]
                for referral_id, _r, _p, transaction_id, *_rest in found
            ],
        )
    return created


def _date(value: object) -> date:
    """SQLite hands dates back as text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
