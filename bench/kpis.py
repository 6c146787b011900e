"""The supervisors' KPIs at scale on PostgreSQL.

    python -m bench.kpis [--customers 1000000] [--runs 3] [--page-requests 40]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench_kpis` database), migrates it
and fills it with demo customers (15 months of transactions, interactions...) when it has
fewer than `--customers`. What the demo generator does not make is added once, set-based:
the seed programs with a membership per customer and program (tier by a hash of the id), a
change of tier for a third of them in the last 12 months, a points account per customer and
program, 10% of `--customers` resolved tickets (bench.sla) and as many feedback answers
(bench.feedback).

Then `--runs` times the whole daily job (every figure for every scope, written):
`compute_s` per run, `compute_queries`, `scopes`. Last, the KPI page as the first team's
supervisor through Django's test client: `page_p50_ms` and the headline `page_p95_ms`.
"""

import argparse
import os
import statistics
import time

from bench.demo_database import demo_database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench_kpis"


def loyalty_fill() -> dict[str, int]:
    """Memberships, tier changes and points accounts for every customer, once (skipped when
    memberships exist)."""
    from django.core.management import call_command
    from django.db import connection

    from loyalty.models import Membership

    if Membership.objects.exists():
        return {}
    call_command("seed_programs", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO loyalty_membership (customer_id, program_id, tier_id, since,
                months_under_ratio)
            SELECT c.id, p.id, t.id, DATE '2025-06-01', 0
              FROM crm_customer c
              CROSS JOIN loyalty_program p
              JOIN loyalty_tier t ON t.program_id = p.id
                   AND t.rank = 1 + ((c.id * 7919 + p.id) %% 100 >= 50)::int
                                  + ((c.id * 7919 + p.id) %% 100 >= 75)::int
                                  + ((c.id * 7919 + p.id) %% 100 >= 90)::int
                                  + ((c.id * 7919 + p.id) %% 100 >= 97)::int
            """,
            {},
        )
        memberships = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO loyalty_membershipchange (membership_id, customer_id, program_id,
                from_tier_id, to_tier_id, kind, evaluated_on, reason, created_at)
            SELECT m.id, m.customer_id, m.program_id, f.id, m.tier_id,
                   CASE WHEN f.rank < t.rank THEN 'upgrade' ELSE 'downgrade' END,
                   CURRENT_DATE - (m.id %% 360)::int, '{}'::jsonb, now()
              FROM loyalty_membership m
              JOIN loyalty_tier t ON t.id = m.tier_id
              JOIN loyalty_tier f ON f.program_id = m.program_id
                   AND f.rank = CASE WHEN t.rank = 1 THEN 2 ELSE t.rank - 1 END
             WHERE m.id %% 3 = 0
            """,
            {},
        )
        changes = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO loyalty_pointsaccount (customer_id, program_id, balance, created_at)
            SELECT m.customer_id, m.program_id,
                   CASE WHEN m.id %% 50 = 0 THEN -(m.id %% 300) ELSE (m.id * 31) %% 20000 END,
                   now()
              FROM loyalty_membership m
            ON CONFLICT DO NOTHING
            """,
            {},
        )
        accounts = cursor.rowcount
        for table in ("loyalty_membership", "loyalty_membershipchange", "loyalty_pointsaccount"):
            cursor.execute(f"ANALYZE {table}")
    return {"memberships": memberships, "tier_changes": changes, "points_accounts": accounts}


def service_fill(*, customers: int) -> dict[str, float]:
    """Tickets and feedback answers (the SLA and NPS figures), once."""
    from workflows.models import FeedbackResponse, Ticket

    figures: dict[str, float] = {}
    if not Ticket.objects.exists():
        from bench.sla import tickets_generate

        figures["generate_tickets_s"] = tickets_generate(tickets=customers // 10)
    if not FeedbackResponse.objects.exists():
        from bench.feedback import answers_generate

        _texts, seconds = answers_generate(answers=customers // 10, customers=customers)
        figures["generate_answers_s"] = seconds
    return figures


def compute_measure(*, runs: int) -> list[tuple[float, int, int]]:
    """(seconds, queries, scopes) per run of the daily job."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.kpis.snapshots import kpi_snapshots_compute

    results = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            scopes = kpi_snapshots_compute()
            elapsed = time.perf_counter() - started
        results.append((elapsed, len(queries), scopes))
    return results


def page_measure(*, requests: int) -> dict[str, str]:
    """The KPI page as the first team's supervisor: `requests` timed after 3 untimed."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.urls import reverse

    from crm import roles
    from crm.models import TeamMembership

    membership = (
        TeamMembership.objects.filter(role=TeamMembership.Role.SUPERVISOR)
        .select_related("user")
        .order_by("team_id")
        .first()
    )
    if membership is None:
        return {"page_p95_ms": "n/a"}
    user = membership.user
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("admin:workflows_kpisnapshot_dashboard")
    timings = []
    for attempt in range(requests + 3):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or b'id="kpis-computed"' not in response.content:
            return {"page_status": str(response.status_code), "page_p95_ms": "n/a"}
        if attempt >= 3:
            timings.append(elapsed)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
    return {"page_p50_ms": f"{statistics.median(timings):.0f}", "page_p95_ms": f"{p95:.0f}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-requests", type=int, default=40)
    args = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    demo_database_prepare(bench="kpis", customers=args.customers, workers=args.workers)
    from crm.models import Customer, Transaction

    for key, value in loyalty_fill().items():
        print(f"{key}={value}")
    for key, value in service_fill(customers=args.customers).items():
        print(f"{key}={value:.1f}")
    print(f"customers={Customer.objects.count()}")
    print(f"transactions={Transaction.objects.count()}")
    for seconds, queries, scopes in compute_measure(runs=args.runs):
        print(f"compute_s={seconds:.1f}")
        print(f"compute_queries={queries}")
        print(f"scopes={scopes}")
    for key, value in page_measure(requests=args.page_requests).items():
        print(f"{key}={value}")  # the headline, page_p95_ms, last


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()
