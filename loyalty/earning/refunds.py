"""Refunds reverse what their original earned, in each program, proportionally.

A refund of `amount` against an original of `original amount` that earned `earned` points
brings what is reversed of that earning up to round_half_up(earned x refunded so far /
original amount), where "refunded so far" adds the amounts of the original's refunds up to
this one (by id: the order they arrived in). So several partial refunds that add up to the
whole reverse exactly what was earned, and never more: what is reversed is capped by what is
not reversed yet. The reversal is posted even if the points were spent
(`allow_negative=True`): the balance then goes negative and shows in
`loyalty.selectors.negative_balance_accounts`.

Refunds are rare, so this is a loop over a batch's refunds through `ledger.debit` (a handful
of queries each) after ONE query that finds them with everything they need.
"""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone

from crm.models import Transaction
from loyalty.earning.posting import ACCOUNTS, EARN, ENTRIES
from loyalty.earning.sql import ids_sql
from loyalty.models import PointsAccount, PointsEntry
from loyalty.services.ledger import debit


def refund_points(*, earned: int, original_amount: Decimal, refunded: Decimal) -> int:
    """What is reversed of `earned` in all once `refunded` of `original_amount` is refunded."""
    share = min(refunded, original_amount) / original_amount
    return int((earned * share).to_integral_value(rounding=ROUND_HALF_UP))


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def refunds_reverse(*, transaction_ids: list[int]) -> int:
    """Reverse the earnings of the refunds among `transaction_ids`; the number of reversals."""
    transactions = Transaction._meta.db_table
    among, params = ids_sql("r.id", transaction_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, r.occurred_at, o.amount, e.id, e.points, a.id, a.customer_id,"  # noqa: S608
            " a.program_id,"
            f" COALESCE((SELECT -SUM(v.points) FROM {ENTRIES} v WHERE v.reverses_id = e.id), 0),"
            f" (SELECT SUM(x.amount) FROM {transactions} x"
            "  WHERE x.refund_of_id = r.refund_of_id AND x.id <= r.id)"
            f" FROM {transactions} r JOIN {transactions} o ON o.id = r.refund_of_id"
            f" JOIN {ENTRIES} e ON e.transaction_id = o.id AND e.kind = %s AND e.key LIKE %s"
            f" JOIN {ACCOUNTS} a ON a.id = e.account_id"
            f" WHERE {among} ORDER BY r.id, e.id",
            [EARN, "earn:%", *params],
        )
        found = cursor.fetchall()
    reversed_by_entry: dict[int, int] = {}
    posted = 0
    for row in found:
        refund_id, occurred_at, original_amount, entry_id, earned, account_id = row[:6]
        customer_id, program_id, reversed_before, refunded = row[6:]
        reversed_so_far = reversed_by_entry.get(entry_id, int(reversed_before or 0))
        target = refund_points(
            earned=int(earned), original_amount=_money(original_amount), refunded=_money(refunded)
        )
        points = min(target, int(earned)) - reversed_so_far
        if points <= 0:
            continue
        if isinstance(occurred_at, str):  # SQLite: naive UTC text
            occurred_at = datetime.fromisoformat(occurred_at)
        if timezone.is_naive(occurred_at):
            occurred_at = occurred_at.replace(tzinfo=UTC)
        debit(
            account=PointsAccount(id=account_id, customer_id=customer_id, program_id=program_id),
            kind=PointsEntry.Kind.REVERSE,
            points=points,
            key=f"refund:{program_id}:{refund_id}",
            allow_negative=True,
            first_lot_id=entry_id,
            occurred_on=timezone.localdate(occurred_at),
            reverses_id=entry_id,
            transaction_id=refund_id,
        )
        reversed_by_entry[entry_id] = reversed_so_far + points
        posted += 1
    return posted
