"""Customer lifetime value for every customer, on PostgreSQL.

    python -m bench.clv [--customers 1000000] [--purchases 5] [--rerun]

Uses its own PostgreSQL database (DATABASE_URL, default the local `clv_bench` database),
migrates it and, when it holds fewer customers than asked, adds the missing ones with
synthetic purchases, set-based in SQL (generate_series; kept for the next run): per customer
1 + an exponential number of purchases (mean `--purchases` in all), the first on a random day
of the 450 days before the bench day, the others on random days between it and the bench day,
at random hours; each customer spends around a level of their own (20 to 420 CNY, most
low), each purchase 0.5 to 1.5 times it; one purchase in 50 is refunded in part the next day.

Then `customer_values_refresh` (the nightly task's service) as of the bench day, as the task
runs it, and prints: `customers`, `repeat_customers`, the fitted parameters, `summary_s`
(reading the summary in one GROUP BY into numpy), `fitting_s` (both maximum-likelihood fits),
`scoring_s` (every customer's scores in numpy), `write_s` (COPY + upsert + delete), then
`fit_s` (summary + fitting), `score_s` (scoring + writing) and the headline `total_s` last.
Each run starts from an empty CustomerValue table (the first night: a million inserts). With
`--rerun` it then runs the same day a second time and prints `rerun_s` and `rerun_written`
(must be 0: the same data gives the same numbers); with `--next-day` it runs the next day, as
the following night does (every row gets the new run and T one day longer): `next_day_s`,
`next_day_written`.
"""

import argparse
import os
import time
from datetime import date, timedelta

from bench.demo_database import _database_create_if_missing, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clv_bench"
BENCH_DAY = date(2026, 11, 30)
HISTORY_DAYS = 450


def _generate(*, customers: int, purchases: float) -> float:
    """Customers up to `customers`, and purchases for those that have none: seconds taken."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_customer")
        missing = customers - cursor.fetchone()[0]
        if missing > 0:
            cursor.execute(
                "INSERT INTO crm_customer (kind, name, phone, email, is_student, status,"
                " created_at, updated_at)"
                " SELECT 'individual', 'clv bench ' || i, '', '', false, 'active', now(), now()"
                " FROM generate_series(1, %s) i",
                [missing],
            )
        cursor.execute(
            "SELECT count(*) FROM crm_customer c"
            " WHERE NOT EXISTS (SELECT 1 FROM crm_transaction t WHERE t.customer_id = c.id)"
        )
        if cursor.fetchone()[0] == 0:
            return time.monotonic() - started
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            """
            WITH plan AS (
                SELECT c.id,
                       1 + floor(-ln(1 - random()) * (%(mean)s - 0.5))::int AS purchases,
                       floor(random() * %(days)s)::int AS first_day,
                       20 + 400 * power(random(), 2) AS spend_level
                FROM crm_customer c
                WHERE NOT EXISTS (SELECT 1 FROM crm_transaction t WHERE t.customer_id = c.id)
            )
            INSERT INTO crm_transaction (customer_id, kind, amount, currency, category, channel,
                payment_method, merchant, occurred_at, source, external_id, created_at)
            SELECT p.id, 'purchase', round((p.spend_level * (0.5 + random()))::numeric, 2), 'CNY',
                   'other',
                   'online', 'card', '',
                   %(start)s::timestamptz
                   + make_interval(days => CASE WHEN k = 1 THEN p.first_day ELSE p.first_day
                       + floor(random() * (%(days)s - p.first_day))::int END)
                   + make_interval(secs => floor(random() * 86400)::int),
                   'shop', 'clv-' || p.id || '-' || k, now()
            FROM plan p CROSS JOIN LATERAL generate_series(1, p.purchases) k
            """,
            {
                "mean": purchases,
                "days": HISTORY_DAYS,
                "start": f"{(BENCH_DAY - timedelta(days=HISTORY_DAYS - 1)).isoformat()} 00:00+08",
            },
        )
        cursor.execute(
            """
            INSERT INTO crm_transaction (customer_id, kind, amount, currency, category, channel,
                payment_method, merchant, occurred_at, source, external_id, created_at,
                refund_of_id)
            SELECT t.customer_id, 'refund', round(t.amount / 2, 2), t.currency, t.category,
                   t.channel, t.payment_method, '', t.occurred_at + interval '1 day', 'shop',
                   'clv-refund-' || t.id, now(), t.id
            FROM crm_transaction t
            WHERE t.kind = 'purchase' AND mod(t.id, 50) = 0 AND t.external_id LIKE 'clv-%'
              AND NOT EXISTS (SELECT 1 FROM crm_transaction r WHERE r.refund_of_id = t.id)
            """
        )
        cursor.execute("ANALYZE crm_customer")
        cursor.execute("ANALYZE crm_transaction")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=float, default=5.0, help="mean purchases a customer")
    parser.add_argument("--rerun", action="store_true", help="also time a second run of the day")
    parser.add_argument(
        "--next-day", action="store_true", help="also time the next night (every row changes)"
    )
    args = parser.parse_args()

    django_setup(DEFAULT_DATABASE_URL)
    from django.core.management import call_command
    from django.db import connection, transaction

    from loyalty.services.customer_values import customer_values_refresh

    if connection.vendor != "postgresql":
        raise SystemExit("bench.clv needs PostgreSQL: set DATABASE_URL")
    _database_create_if_missing(connection.settings_dict)
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        generate_s = _generate(customers=args.customers, purchases=args.purchases)
    print(f"generate_s={generate_s:.1f}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_transaction")
        print(f"transactions={cursor.fetchone()[0]}")

    # Every run times the same work: writing every customer's row for the first time.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE loyalty_customervalue, loyalty_valuemodelrun")
    # The machine is shared: the load says how far the figures are from an idle machine's.
    print(f"load_avg_1min={os.getloadavg()[0]:.1f} cpus={os.cpu_count()}")
    started = time.monotonic()
    result = customer_values_refresh(as_of=BENCH_DAY)
    total_s = time.monotonic() - started
    if args.rerun:
        again_started = time.monotonic()
        again = customer_values_refresh(as_of=BENCH_DAY)
        print(f"rerun_s={time.monotonic() - again_started:.1f}")
        print(f"rerun_written={again.written}")
    if args.next_day:
        next_started = time.monotonic()
        following = customer_values_refresh(as_of=BENCH_DAY + timedelta(days=1))
        print(f"next_day_s={time.monotonic() - next_started:.1f}")
        print(f"next_day_written={following.written}")
    run = result.run
    print(f"customers={run.customers}")
    print(f"repeat_customers={run.repeat_customers}")
    print(f"written={result.written}")
    print(
        f"r={run.bgnbd_r:.4f} alpha_days={run.bgnbd_alpha:.3f} a={run.bgnbd_a:.4f}"
        f" b={run.bgnbd_b:.4f} p={run.gamma_gamma_p:.4f} q={run.gamma_gamma_q:.4f}"
        f" v={run.gamma_gamma_v:.3f} converged={int(run.converged)}"
    )
    print(f"summary_s={result.summary_seconds:.1f}")
    print(f"fitting_s={result.fitting_seconds:.1f}")
    print(f"scoring_s={result.scoring_seconds:.1f}")
    print(f"write_s={result.writing_seconds:.1f}")
    print(f"fit_s={result.summary_seconds + result.fitting_seconds:.1f}")
    print(f"score_s={result.scoring_seconds + result.writing_seconds:.1f}")
    print(f"total_s={total_s:.1f}")


if __name__ == "__main__":
    main()
