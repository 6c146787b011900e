"""The tickets' SLA watcher at a million tickets on PostgreSQL.

    python -m bench.sla [--tickets 1000000] [--customers 20000]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench_sla` database), migrates it
and fills it with demo customers when it has fewer than `--customers`. Then, each run from
scratch (the tickets and the tickets' staff messages of this database are emptied first):

1. Tickets: `--tickets` in one INSERT ... SELECT over generate_series, spread over the demo
   customers (their team, their RM as the assignee). Nine in ten are resolved or closed, with
   past deadlines; one in ten is new or open, created in the last ten days, two in three of
   them already answered. Of the open ones, 2% are past their warning moment (80%) and 2%
   past a deadline (already warned); the rest are due later. `generate_tickets_s`.
2. The watcher, as the every-minute beat task runs it, once: `watch_s`, `watch_queries`
   (CaptureQueriesContext), what it did (`watch_warned`, `watch_breached`, `watch_messages`);
   then a second run right after, which must change nothing (`watch_again_messages=0`).
   Goal: under 10 s with a constant number of queries.
3. The "my team's tickets" admin list as a team's supervisor: `team_list_p50_ms` and the
   headline `team_list_p95_ms` (goal under 300 ms), last. See `team_list_measure`.
"""

import argparse
import os
import statistics
import time

from bench.demo_database import demo_database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench_sla"
TEAM_LIST_QUERY = "?team=mine&status__in=new,open,waiting"


def tickets_generate(*, tickets: int) -> float:
    """Empty the tickets, then insert `tickets` (see the module); seconds taken."""
    from django.db import connection

    from workflows.models import Message, Ticket

    table = Ticket._meta.db_table
    history = Ticket.history.model._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}, {history} RESTART IDENTITY CASCADE")
        cursor.execute(
            f"DELETE FROM {Message._meta.db_table} WHERE occasion LIKE 'ticket:%%'"  # noqa: S608
        )
        # g: the row; open rows are every tenth; k numbers the open rows.
        cursor.execute(
            f"""
            WITH customers AS (
                SELECT array_agg(id ORDER BY id) AS ids, array_agg(team_id ORDER BY id) AS teams,
                    array_agg(owner_id ORDER BY id) AS owners, count(*) AS n
                FROM crm_customer
            ), rows AS (
                SELECT g, g %% 10 = 0 AS is_open, g / 10 AS k,
                    1 + (CAST(g AS BIGINT) * 7919) %% c.n AS pick, c.ids, c.teams, c.owners,
                    CASE WHEN g %% 10 = 0
                        THEN now() - make_interval(mins => (g * 37) %% (10 * 24 * 60))
                        ELSE now() - make_interval(days => 10 + g %% 170, mins => g %% 600)
                    END AS created
                FROM generate_series(1, %s) AS g CROSS JOIN customers AS c
            )
            INSERT INTO {table} (customer_id, team_id, assignee_id, department, category,
                priority, status, channel, subject, description, external_id, created_at,
                assigned_at, first_response_due_at, resolution_due_at, response_warn_at,
                resolution_warn_at, first_responded_at, resolved_at, closed_at, reopened_count,
                resolution_warned_at)
            SELECT ids[pick], teams[pick], owners[pick],
                (ARRAY['customer_service', 'tech_support', 'sales'])[1 + g %% 3],
                (ARRAY['account', 'card', 'payment', 'points', 'app', 'complaint'])[1 + g %% 6],
                1 + g %% 4,
                CASE WHEN is_open THEN (CASE WHEN k %% 4 = 0 THEN 'new' ELSE 'open' END)
                    WHEN g %% 3 = 0 THEN 'resolved' ELSE 'closed' END,
                'phone', 'Bench ticket ' || g, '', '', created, created,
                -- deadlines: open ones due later, a few at the warning and at breach
                CASE WHEN is_open AND k %% 50 = 0 THEN now() + interval '30 minutes'
                     WHEN is_open AND k %% 50 = 1 THEN now() - interval '5 minutes'
                     WHEN is_open THEN now() + make_interval(mins => 60 + (k * 13) %% 14400)
                     ELSE created + interval '4 hours' END,
                CASE WHEN is_open AND k %% 50 = 0 THEN now() + interval '2 hours'
                     WHEN is_open AND k %% 50 = 1 THEN now() - interval '5 minutes'
                     WHEN is_open THEN now() + make_interval(mins => 600 + (k * 13) %% 14400)
                     ELSE created + interval '3 days' END,
                CASE WHEN is_open AND k %% 50 = 0 THEN now() - interval '1 minute'
                     WHEN is_open AND k %% 50 = 1 THEN now() - interval '1 hour'
                     WHEN is_open THEN now() + make_interval(mins => 30 + (k * 13) %% 14400)
                     ELSE created + interval '3 hours' END,
                CASE WHEN is_open AND k %% 50 = 0 THEN now() - interval '1 minute'
                     WHEN is_open AND k %% 50 = 1 THEN now() - interval '1 hour'
                     WHEN is_open THEN now() + make_interval(mins => 400 + (k * 13) %% 14400)
                     ELSE created + interval '2 days' END,
                CASE WHEN NOT is_open OR k %% 3 <> 0 THEN created + interval '1 hour' END,
                CASE WHEN NOT is_open THEN created + interval '1 day' END,
                CASE WHEN NOT is_open AND g %% 3 <> 0 THEN created + interval '8 days' END,
                0,
                CASE WHEN is_open AND k %% 50 = 1 THEN now() - interval '1 hour' END
            FROM rows
            """,  # noqa: S608 (identifiers from the model, values as parameters)
            [tickets],
        )
        cursor.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


def watch_measure() -> dict[str, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflows.tickets.seeds import ticket_templates_seed
    from workflows.tickets.watch import tickets_watch

    ticket_templates_seed()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = tickets_watch()
        watch_s = time.perf_counter() - started
    summary = result.summary()
    again = tickets_watch().summary()
    return {
        "watch_warned": summary["response_warned"] + summary["resolution_warned"],
        "watch_breached": summary["response_breached"] + summary["resolution_breached"],
        "watch_escalated": summary["escalated"],
        "watch_messages": summary["messages"],
        "watch_again_messages": again["messages"],
        "watch_queries": len(queries),
        "watch_s": f"{watch_s:.2f}",
    }


def team_list_measure(*, requests: int) -> dict[str, object]:
    """The "my team's tickets" changelist (its open tickets, nearest SLA deadline first, as the
    admin's "My team's tickets" link opens it) through Django's test client as the first
    team's supervisor: `requests` timed requests after 3 untimed ones."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from crm.models import TeamMembership

    try:
        url = reverse("admin:workflows_ticket_changelist") + TEAM_LIST_QUERY
    except NoReverseMatch:
        return {"team_list_p95_ms": "n/a"}
    membership = (
        TeamMembership.objects.filter(role=TeamMembership.Role.SUPERVISOR)
        .select_related("user")
        .first()
    )
    if membership is None:
        return {"team_list_p95_ms": "n/a"}
    user = membership.user
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    timings = []
    for attempt in range(requests + 3):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            return {"team_list_status": response.status_code, "team_list_p95_ms": "n/a"}
        if attempt >= 3:
            timings.append(elapsed)
    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
    return {
        "team_list_p50_ms": f"{statistics.median(timings):.0f}",
        "team_list_p95_ms": f"{p95:.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--list-requests", type=int, default=40)
    args = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    demo_database_prepare(bench="sla", customers=args.customers, workers=args.workers)

    print(f"tickets={args.tickets}")
    print(f"generate_tickets_s={tickets_generate(tickets=args.tickets):.1f}")
    for key, value in watch_measure().items():
        print(f"{key}={value}")
    for key, value in team_list_measure(requests=args.list_requests).items():
        print(f"{key}={value}")  # the headline, team_list_p95_ms, last


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()
