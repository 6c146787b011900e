"""The nightly tier evaluation of the seed programs at 1M customers, against hand-written SQL.

    python -m bench.tiers [--customers 1000000] [--workers 2]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench` database), migrates it, fills
it with the demo data generator when it has fewer demo customers than asked (about 10
transactions, 90 days of balances and a few holdings per customer) and seeds the bank and the
shop programs. Every customer starts at the base tier, as after a first night, so the measured
run moves everyone who qualifies for more (`changed`).

Then, as of yesterday:
- `evaluate_s`: `program_evaluate` for the bank and the shop (metrics, rules of movement,
  memberships, history rows, warnings), as the nightly task runs it;
- `sql_only_s`: ONE hand-written statement computing the same metrics and both programs' tiers
  (serious credit events included) into a scratch table, writing nothing else;
- `mismatches`: customers whose tier differs between the two (must be 0);
- `preview_bank_s` / `advice_bank_s`: the threshold page's preview of a changed bank threshold
  and its advice for a 20% share, as a supervisor waits for them.
Prints key=value lines; the headline `ratio_to_sql` (evaluate_s / sql_only_s) last.
"""

import argparse
import resource
import time
from datetime import date, timedelta

from bench.demo_database import demo_database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"
SQL_TABLE = "bench_tiers_sql"


def _everyone_at_the_base_tier(as_of: date) -> None:
    """Forget earlier runs; every customer holds the base tier of both programs."""
    from django.db import connection, transaction

    from crm.models import Customer
    from loyalty.models import Program

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE loyalty_membershipchange, loyalty_downgradewarning,"
            " loyalty_membership, loyalty_evaluationrun"
        )
        for program in Program.objects.filter(code__in=["bank", "shop"]):
            cursor.execute(
                "INSERT INTO loyalty_membership (customer_id, program_id, tier_id, since,"
                " months_under_ratio) SELECT c.id, t.program_id, t.id, %s, 0"
                " FROM crm_customer c JOIN loyalty_tier t ON t.program_id = %s AND t.rank = 1"
                " WHERE c.status <> %s",
                [as_of - timedelta(days=1), program.pk, Customer.Status.MERGED],
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE loyalty_membership")


def _evaluate(as_of: date) -> tuple[float, int]:
    from loyalty.models import Program
    from loyalty.services.evaluation import program_evaluate

    started = time.monotonic()
    changed = 0
    for program in Program.objects.filter(code__in=["bank", "shop"]).order_by("code"):
        program_started = time.monotonic()
        run = program_evaluate(program_id=program.pk, as_of=as_of)
        changed += run.upgrades + run.downgrades + run.memberships_created
        print(f"evaluate_{program.code}_s={time.monotonic() - program_started:.1f}")
    return time.monotonic() - started, changed


def _sql_only(as_of: date) -> float:
    """The seed programs' metrics and tiers in one statement, written by hand."""
    from dateutil.relativedelta import relativedelta
    from django.conf import settings
    from django.db import connection

    from crm.models import ProductHolding
    from loyalty.metrics.base import Window, end_of_day

    year_window = Window.ending(as_of=as_of, months=12)
    quarter = Window.ending(as_of=as_of, months=3)
    month = Window.ending(as_of=as_of, months=1)
    params = {
        "tz": settings.TIME_ZONE,
        "end": end_of_day(as_of),
        "as_of": as_of,
        "year_start": year_window.starts_at,
        "month_start": month.starts_at,
        "quarter_first": quarter.first_day,
        "quarter_days": quarter.days,
        "block_start": end_of_day(as_of - relativedelta(months=12)),
        "months_now": as_of.year * 12 + as_of.month,
        "day": as_of.day,
        "products": list(ProductHolding.INTERMEDIATE_TYPES),
    }
    sql = f"""
    CREATE UNLOGGED TABLE {SQL_TABLE} AS
    WITH spend AS (
        SELECT t.customer_id,
               SUM(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END) AS spend,
               SUM(CASE WHEN t.kind = 'refund' THEN
                            CASE WHEN o.payment_method = 'card' THEN -t.amount ELSE 0 END
                        WHEN t.payment_method = 'card' THEN t.amount ELSE 0 END) AS card,
               COUNT(*) FILTER (WHERE t.kind = 'purchase') AS orders
        FROM crm_transaction t LEFT JOIN crm_transaction o ON o.id = t.refund_of_id
        WHERE t.occurred_at >= %(year_start)s AND t.occurred_at < %(end)s
          AND t.kind IN ('purchase', 'refund')
        GROUP BY t.customer_id),
    repayments AS (
        SELECT customer_id, COUNT(*) AS n FROM crm_transaction
        WHERE kind = 'card_repayment' AND occurred_at >= %(month_start)s
          AND occurred_at < %(end)s
        GROUP BY customer_id),
    assets AS (
        SELECT customer_id, ROUND(SUM(amount) / %(quarter_days)s, 2) AS average
        FROM crm_balancesnapshot WHERE date >= %(quarter_first)s AND date <= %(as_of)s
        GROUP BY customer_id),
    products AS (
        SELECT customer_id, COUNT(*) AS n FROM crm_productholding
        WHERE product_type = ANY(%(products)s) AND opened_on <= %(as_of)s
          AND (closed_on IS NULL OR closed_on > %(as_of)s)
        GROUP BY customer_id),
    reviews AS (
        SELECT customer_id, COUNT(*) AS n FROM crm_interaction
        WHERE kind = 'review' AND occurred_at >= %(year_start)s AND occurred_at < %(end)s
        GROUP BY customer_id),
    serious AS (
        SELECT customer_id, MAX(occurred_at) AS latest FROM crm_creditevent
        WHERE severity = 'serious' AND occurred_at < %(end)s GROUP BY customer_id),
    metrics AS (
        SELECT c.id AS customer_id,
               COALESCE(a.average, 0) AS assets, COALESCE(s.card, 0) AS card,
               COALESCE(s.spend, 0) AS spend, COALESCE(s.orders, 0) AS orders,
               COALESCE(p.n, 0) AS products, COALESCE(r.n, 0) AS repayments,
               COALESCE(v.n, 0) AS reviews,
               COALESCE(e.latest >= %(block_start)s, false) AS blocked,
               %(months_now)s
                 - EXTRACT(YEAR FROM COALESCE(e.latest, c.created_at) AT TIME ZONE %(tz)s) * 12
                 - EXTRACT(MONTH FROM COALESCE(e.latest, c.created_at) AT TIME ZONE %(tz)s)
                 - CASE WHEN EXTRACT(DAY FROM COALESCE(e.latest, c.created_at)
                                     AT TIME ZONE %(tz)s) > %(day)s THEN 1 ELSE 0 END
               AS clean_months
        FROM crm_customer c
        LEFT JOIN spend s ON s.customer_id = c.id
        LEFT JOIN repayments r ON r.customer_id = c.id
        LEFT JOIN assets a ON a.customer_id = c.id
        LEFT JOIN products p ON p.customer_id = c.id
        LEFT JOIN reviews v ON v.customer_id = c.id
        LEFT JOIN serious e ON e.customer_id = c.id
        WHERE c.created_at < %(end)s AND c.status <> 'merged')
    SELECT customer_id,
           CASE WHEN blocked THEN 1
                WHEN assets >= 1000000 AND clean_months >= 12 THEN 5
                WHEN (assets >= 200000 AND clean_months >= 6)
                     OR (card >= 100000 AND products >= 3) THEN 4
                WHEN assets >= 50000 OR card >= 30000 OR products >= 2 THEN 3
                WHEN assets >= 10000 OR card >= 10000 OR products >= 1
                     OR repayments >= 3 THEN 2
                ELSE 1 END AS bank_rank,
           CASE WHEN blocked THEN 1
                WHEN spend >= 100000 AND orders >= 100 THEN 5
                WHEN spend >= 30000 AND orders >= 60 THEN 4
                WHEN (spend >= 8000 AND orders >= 30) OR reviews >= 5 THEN 3
                WHEN spend >= 2000 OR orders >= 10 THEN 2
                ELSE 1 END AS shop_rank
    FROM metrics
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SQL_TABLE}")
        started = time.monotonic()
        cursor.execute(sql, params)
        return time.monotonic() - started


def _mismatches() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {SQL_TABLE} b"
            " CROSS JOIN (SELECT id, code FROM loyalty_program WHERE code IN ('bank', 'shop')) p"
            " LEFT JOIN loyalty_membership m ON m.customer_id = b.customer_id"
            "  AND m.program_id = p.id"
            " LEFT JOIN loyalty_tier t ON t.id = m.tier_id"
            " WHERE t.rank IS DISTINCT FROM"
            "  CASE p.code WHEN 'bank' THEN b.bank_rank ELSE b.shop_rank END"
        )
        (count,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {SQL_TABLE}")
    return count


def _preview(as_of: date) -> tuple[float, float]:
    """The threshold page of the bank: a preview of gold's first threshold doubled, and the
    threshold advice for it at 20%."""
    from decimal import Decimal

    from loyalty.models import Program
    from loyalty.preview import rules_compare, threshold_for_share
    from loyalty.rules import ProgramRules, with_thresholds

    program = Program.objects.get(code="bank")
    rules = ProgramRules.load(program.pk)
    gold = next(tier for tier in rules.tiers if tier.rank == 3)
    condition = gold.groups[0].conditions[0]
    assert condition.id is not None  # noqa: S101 - loaded from the database
    started = time.monotonic()
    rules_compare(
        program=program,
        rules=with_thresholds(rules, {condition.id: condition.threshold * 2}),
        saved_rules=rules,
        as_of=as_of,
    )
    preview_s = time.monotonic() - started
    started = time.monotonic()
    threshold_for_share(program=program, condition=condition, share=Decimal("0.2"), as_of=as_of)
    return preview_s, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    from django.utils import timezone

    from loyalty.management.commands.seed_programs import programs_seed

    demo_database_prepare(bench="tiers", customers=arguments.customers, workers=arguments.workers)
    programs_seed()
    as_of = timezone.localdate() - timedelta(days=1)
    _everyone_at_the_base_tier(as_of)
    evaluate_s, changed = _evaluate(as_of)
    sql_only_s = _sql_only(as_of)
    mismatches = _mismatches()
    preview_s, advice_s = _preview(as_of)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"as_of={as_of.isoformat()}")
    print(f"evaluate_s={evaluate_s:.1f}")
    print(f"sql_only_s={sql_only_s:.1f}")
    print(f"peak_rss_mb={peak_rss_mb:.0f}")
    print(f"changed={changed}")
    print(f"mismatches={mismatches}")
    print(f"preview_bank_s={preview_s:.1f}")
    print(f"advice_bank_s={advice_s:.1f}")
    print(f"ratio_to_sql={evaluate_s / sql_only_s:.2f}")


if __name__ == "__main__":
    main()
