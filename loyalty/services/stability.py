"""Stability: a purchase far above the customer's own pattern is flagged and does not count.

The nightly check flags, in one statement for all customers, the purchases of the last
`LOYALTY_STABILITY_LOOKBACK_DAYS` days (up to `as_of`, local days) worth more than
`LOYALTY_STABILITY_MULTIPLIER` times the median of the customer's monthly purchase totals over
the `LOYALTY_STABILITY_TRAILING_MONTHS` calendar months before the month of `as_of`. Only
months with purchases count, and a customer needs `LOYALTY_STABILITY_MIN_MONTHS` of them to
have a pattern at all. Purchases flagged earlier and not accepted stay out of the totals, so an
unusual spend does not raise the bar for the next one.

The tier metrics leave out a flagged purchase (and its refunds) until an RM accepts it
(loyalty/metrics/transactions.py).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Transaction
from crm.selectors import customer_visibility_q
from loyalty.metrics.base import end_of_day
from loyalty.models import StabilityFlag


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_bounds(as_of: date, months: int) -> list[datetime]:
    """The local midnights opening each of the `months` months before the month of `as_of`,
    and the one opening the month of `as_of`: months + 1 increasing bounds."""
    this_month = as_of.replace(day=1)
    return [_local_midnight(this_month - relativedelta(months=n)) for n in range(months, -1, -1)]


def _money(column: str) -> str:
    """An amount as SQL adds and compares it exactly: numeric on PostgreSQL, integer cents on
    SQLite (which keeps decimals as floating point)."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND({column} * 100) AS INTEGER)"
    return column


def _median(middle_sum: str, middle_count: str) -> str:
    """The median in currency units, to the cent (half up), from the one or two middle totals
    as _money sums them."""
    if connection.vendor == "sqlite":
        # Integer cents rounded half up, then units: no floating point half cent to round.
        return f"(({middle_sum} * 2 + {middle_count}) / ({middle_count} * 2)) / 100.0"
    return f"ROUND({middle_sum} / {middle_count}, 2)"


def _db_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# The SQL is assembled from the models' table names and fixed fragments only; every value is a
# query parameter.
def _flag_statement(*, as_of: date) -> tuple[str, list[Any]]:
    quote = connection.ops.quote_name
    transactions = quote(Transaction._meta.db_table)
    flags = quote(StabilityFlag._meta.db_table)
    purchase = Transaction.Kind.PURCHASE.value
    lookback_starts = _local_midnight(
        as_of - timedelta(days=settings.LOYALTY_STABILITY_LOOKBACK_DAYS - 1)
    )
    lookback_ends = end_of_day(as_of)
    bounds = [
        _db_datetime(b) for b in _month_bounds(as_of, settings.LOYALTY_STABILITY_TRAILING_MONTHS)
    ]
    # Comparing the UTC timestamps with the local month bounds computed here buckets the months
    # in local time on both databases, with no time zone arithmetic in SQL.
    month_number = (
        "CASE "
        + " ".join(f"WHEN t.occurred_at < %s THEN {n}" for n in range(len(bounds) - 1))
        + " END"
    )
    # The multiplier as an exact fraction: the comparison stays in integers (cents) on SQLite.
    numerator, denominator = Decimal(settings.LOYALTY_STABILITY_MULTIPLIER).as_integer_ratio()
    # INSERT first, the WITH inside its SELECT: Python's sqlite3 reports no row count for a
    # statement that starts with WITH.
    sql = f"""
        INSERT INTO {flags}
            (transaction_id, customer_id, amount, monthly_median, flagged_on, status, comment)
        WITH candidates AS (
            SELECT t.id, t.customer_id, t.amount
            FROM {transactions} t
            WHERE t.kind = %s AND t.occurred_at >= %s AND t.occurred_at < %s
              AND NOT EXISTS (SELECT 1 FROM {flags} f WHERE f.transaction_id = t.id)
        ),
        monthly AS (
            SELECT t.customer_id, {month_number} AS month_number,
                   SUM({_money("t.amount")}) AS total
            FROM {transactions} t
            WHERE t.kind = %s AND t.occurred_at >= %s AND t.occurred_at < %s
              AND t.customer_id IN (SELECT c.customer_id FROM candidates c)
              AND NOT EXISTS (
                  SELECT 1 FROM {flags} f WHERE f.transaction_id = t.id AND f.status <> %s
              )
            GROUP BY 1, 2
        ),
        ranked AS (
            SELECT customer_id, total,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY total) AS position,
                   COUNT(*) OVER (PARTITION BY customer_id) AS months
            FROM monthly
        ),
        medians AS (
            SELECT customer_id, SUM(total) AS middle_sum, COUNT(*) AS middle_count
            FROM ranked
            WHERE months >= %s AND position IN ((months + 1) / 2, (months + 2) / 2)
            GROUP BY customer_id
        )
        SELECT c.id, c.customer_id, c.amount, {_median("m.middle_sum", "m.middle_count")},
               %s, %s, ''
        FROM candidates c JOIN medians m ON m.customer_id = c.customer_id
        WHERE {_money("c.amount")} * m.middle_count * %s > m.middle_sum * %s
        ON CONFLICT (transaction_id) DO NOTHING
    """  # noqa: S608
    params: list[Any] = [
        purchase,
        _db_datetime(lookback_starts),
        _db_datetime(lookback_ends),
        *bounds[1:],  # the CASE
        purchase,
        bounds[0],
        bounds[-1],
        StabilityFlag.Status.ACCEPTED.value,
        settings.LOYALTY_STABILITY_MIN_MONTHS,
        connection.ops.adapt_datefield_value(as_of),
        StabilityFlag.Status.PENDING.value,
        denominator,
        numerator,
    ]
    return sql, params


def unusual_spend_flag(*, as_of: date) -> int:
    """Flag the unusual purchases of the days up to `as_of`; the number of new flags.

    One statement whatever the number of customers, atomic by itself; a second run flags
    nothing more (a purchase is flagged once; the unique transaction and ON CONFLICT make a
    concurrent run harmless).
    """
    sql, params = _flag_statement(as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _review(
    *,
    flag: StabilityFlag,
    reviewed_by: AbstractUser,
    status: str,
    comment: str,
) -> StabilityFlag:
    locked = StabilityFlag.objects.select_for_update().get(pk=flag.pk)
    if not Customer.objects.filter(
        customer_visibility_q(reviewed_by), pk=locked.customer_id
    ).exists():
        raise ValidationError(
            _("You may only review the spends of your own customers."), code="not_visible"
        )
    if locked.status != StabilityFlag.Status.PENDING:
        raise ValidationError(
            _("Only a spend waiting for review can be accepted or rejected."), code="not_pending"
        )
    locked.status = status
    locked.reviewed_by_id, locked.reviewed_at = reviewed_by.pk, timezone.now()
    locked.comment = comment
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "comment"])
    return locked


@transaction.atomic
def stability_flag_accept(
    *, flag: StabilityFlag, reviewed_by: AbstractUser, comment: str = ""
) -> StabilityFlag:
    """Accept an unusual spend: it counts from the next evaluation on."""
    return _review(
        flag=flag, reviewed_by=reviewed_by, status=StabilityFlag.Status.ACCEPTED, comment=comment
    )


@transaction.atomic
def stability_flag_reject(
    *, flag: StabilityFlag, reviewed_by: AbstractUser, comment: str
) -> StabilityFlag:
    """Reject an unusual spend: it never counts. The reviewer must say why."""
    comment = comment.strip()
    if not comment:
        raise ValidationError(_("Say why the spend is rejected."), code="comment_required")
    return _review(
        flag=flag, reviewed_by=reviewed_by, status=StabilityFlag.Status.REJECTED, comment=comment
    )
