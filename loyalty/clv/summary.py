"""The customers' purchase histories summarised for the lifetime value models: one SQL
statement (a GROUP BY, the same on PostgreSQL and SQLite), streamed into numpy arrays.

What counts as a purchase: a transaction of kind "purchase" in the default currency
(`CRM_DEFAULT_CURRENCY`; the others cannot be added to it), net of its refunds (a refund is
its own row pointing at the purchase it refunds); a purchase refunded in full does not count.
Merged customers are left out (their history moved to the customer that stays). Time is in
local days (`TIME_ZONE`): purchases are grouped by the local day they happened on, as the
`lifetimes` package groups them by period, so:

- `frequency`: the number of days with a purchase, less the first day (repeat purchase days);
- `recency`: days from the first purchase day to the last one;
- `T`: days from the first purchase day to the last day observed (`as_of`);
- `monetary`: the mean spend of the repeat purchase days (the first day left out), 0 if none;
- `historical`: the net spend to date, every day included, in cents.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from numpy.typing import NDArray

from crm.models import Customer, Transaction
from loyalty.earning.clock import day_number, local_seconds_sql

FETCH_ROWS = 100_000


@dataclass(frozen=True)
class PurchaseSummary:
    """One entry per customer with a purchase, in customer id order."""

    as_of: date
    customer_ids: NDArray[np.int64]
    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary: NDArray[np.float64]  # in currency units
    historical_cents: NDArray[np.int64]

    @property
    def size(self) -> int:
        return int(self.customer_ids.size)


def _cents(column: str) -> str:
    """An amount as integer cents: exact sums on both databases (SQLite keeps decimals as
    floating point)."""
    if connection.vendor == "sqlite":
        return f"CAST(ROUND({column} * 100) AS INTEGER)"
    return f"CAST({column} * 100 AS BIGINT)"


# The first day's spend rides with the day in one integer, so that a single MIN() gives both:
# day * FIRST_DAY_KEY + cents. Good for days before 92,000 (the year 2221) and a customer's
# spend of one day under 10^12 (a DecimalField of 14 digits holds no more in one amount).
FIRST_DAY_KEY = 10**14
SUMMARY_WORK_MEM = "256MB"  # PostgreSQL: the two aggregations sort and hash millions of rows


def _day_sql(column: str) -> str:
    """The local day number (days since 1970-01-01 local) of a timestamp column."""
    if connection.vendor == "postgresql":
        # The same number as local_seconds_sql(...) / 86400, without EXTRACT's numeric math.
        return f"(({column} AT TIME ZONE %(zone)s)::date - DATE '1970-01-01')"
    return f"({local_seconds_sql(column)} / 86400)"


def _summary_sql() -> str:
    quote = connection.ops.quote_name
    transactions, customers = (
        quote(Transaction._meta.db_table),
        quote(Customer._meta.db_table),
    )
    # Per customer and day the net spend of the day, then per customer the summary. The first
    # aggregation's output is ordered by customer, so the second streams (no hash, no sort);
    # merged customers are left out by an anti-join. No row per transaction leaves the database.
    return f"""
        WITH refunded AS (
            SELECT refund_of_id, SUM({_cents("amount")}) AS cents
            FROM {transactions}
            WHERE refund_of_id IS NOT NULL AND kind = %(refund)s AND occurred_at < %(end)s
            GROUP BY refund_of_id
        ),
        days AS (
            SELECT p.customer_id, {_day_sql("p.occurred_at")} AS day,
                   SUM({_cents("p.amount")} - COALESCE(r.cents, 0)) AS cents
            FROM {transactions} p
            LEFT JOIN refunded r ON r.refund_of_id = p.id
            WHERE p.kind = %(purchase)s AND p.currency = %(currency)s AND p.occurred_at < %(end)s
              AND (r.cents IS NULL OR r.cents < {_cents("p.amount")})
              AND NOT EXISTS (SELECT 1 FROM {customers} c
                              WHERE c.id = p.customer_id AND c.status = %(merged)s)
            GROUP BY 1, 2
        )
        SELECT customer_id,
               COUNT(*) - 1,
               MAX(day) - MIN(day),
               %(as_of_day)s - MIN(day),
               SUM(cents) - MIN(day * {FIRST_DAY_KEY} + cents) %% {FIRST_DAY_KEY},
               SUM(cents)
        FROM days
        GROUP BY customer_id
        ORDER BY customer_id
    """  # noqa: S608 (table names from the models, every value a parameter)


def purchase_summary(*, as_of: date) -> PurchaseSummary:
    """Every customer's (frequency, recency, T, monetary, historical) from the purchases up to
    the end of `as_of` (a local day), read in chunks into arrays."""
    zone = ZoneInfo(str(settings.TIME_ZONE))
    end = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=zone)
    params = {
        "refund": Transaction.Kind.REFUND.value,
        "purchase": Transaction.Kind.PURCHASE.value,
        "currency": settings.CRM_DEFAULT_CURRENCY,
        "end": connection.ops.adapt_datetimefield_value(end),
        "as_of_day": day_number(as_of),
        "merged": Customer.Status.MERGED.value,
        "zone": str(settings.TIME_ZONE),
    }
    chunks: list[NDArray[np.int64]] = []
    # A server-side cursor on PostgreSQL (it needs a transaction): the rows come in chunks.
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # For this transaction only. JIT compiling the expressions costs seconds here and
            # saves nothing on a query that runs once a night.
            with connection.cursor() as settings_cursor:
                settings_cursor.execute(f"SET LOCAL work_mem = '{SUMMARY_WORK_MEM}'")
                settings_cursor.execute("SET LOCAL jit = off")
        with connection.chunked_cursor() as cursor:
            cursor.execute(_summary_sql(), params)
            while rows := cursor.fetchmany(FETCH_ROWS):
                chunks.append(np.array(rows, dtype=np.int64).reshape(len(rows), 6))
    table = np.concatenate(chunks) if chunks else np.zeros((0, 6), dtype=np.int64)
    frequency = table[:, 1].astype(np.float64)
    repeat_cents = table[:, 4].astype(np.float64)
    monetary = np.divide(
        repeat_cents / 100, frequency, out=np.zeros_like(frequency), where=frequency > 0
    )
    return PurchaseSummary(
        as_of=as_of,
        customer_ids=table[:, 0].copy(),
        frequency=frequency,
        recency=table[:, 2].astype(np.float64),
        T=table[:, 3].astype(np.float64),
        monetary=monetary,
        historical_cents=table[:, 5].copy(),
    )
