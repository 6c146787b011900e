"""The earn API under load against a bare endpoint, and the nightly expiry against hand-written
SQL, on PostgreSQL.

    python -m bench.points [--seconds 30] [--connections 2] [--customers 500000]
                           [--entries 5000000] [--due-share 0.1] [--workers 2]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench` database, like bench.tiers),
migrates it and fills it with demo customers when it has fewer than asked.

1. Load: gunicorn (2 workers, loopback, DEBUG off, a random secret key) serves the project plus
   a bare DRF endpoint that does one INSERT (bench/points_urls.py); both authenticate with the
   same knox token. A second process (bench/points_client.py, a bounded asyncio client with
   `--connections` connections) drives each for `--seconds`, every request with a unique
   Idempotency-Key: `bare_rps`, then `earn_rps`, `earn_p50_ms`, `earn_p99_ms` for
   `POST /api/v1/loyalty/customers/{id}/points/bench/earn/`. If that URL answers 404,
   `earn_missing=1` says so and the ratio is not computed. The default of 2 connections, one
   per gunicorn worker, keeps both workers busy all the time (the throughput is the same as
   with more) without timing the wait in gunicorn's backlog: with N connections in flight the
   latency grows to about N / throughput, whatever the endpoint does.
2. Expiry: `--entries` ledger entries (`--entries / --customers` per account: earnings, a
   redemption from the oldest lot, their lots and allocations, balances consistent with the
   ledger's invariants), built once with set-based INSERTs and kept for the next run; about
   `--due-share` of the lots are due as of the bench day (a night after a missed week, or
   the first night after expiry is switched on, rather than a quiet night's one day).
   `expire_s`: `points_expire` as the nightly task runs it; `expire_sql_s`: one hand-written
   statement doing the same (entries, allocations, balances, lots). Each runs in a
   transaction rolled back afterwards, so both start from the same state and the data stays
   for the next run; `mismatches`: accounts whose balance or open points differ (must be 0).
Prints key=value lines; the headline `earn_ratio` (bare_rps / earn_rps) last.
"""

import argparse
import os
import secrets
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.demo_database import demo_database_prepare, django_setup
from bench.server import free_port, server_start

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"
PROGRAM = "bench"
API_USER = "bench_points_api"
EARN_URL = "/api/v1/loyalty/customers/{customer}/points/bench/earn/"
BARE_URL = "/bench/bare/{customer}/"
LOAD_CUSTOMERS = 2_000
ROOT = Path(__file__).resolve().parent.parent


# -- 1. the load --------------------------------------------------------------------------------


def _api_setup() -> tuple[str, list[int]]:
    """The program, an API user and its knox token, the customers to earn for, the bare table."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from knox.models import AuthToken

    from bench.points_urls import BARE_TABLE
    from crm.models import Customer
    from loyalty.models import Program

    Program.objects.get_or_create(code=PROGRAM, defaults={"name": "Bench"})
    # A superuser: sees every customer and holds every permission the earn API may ask for.
    user, _created = get_user_model().objects.get_or_create(
        username=API_USER, defaults={"is_staff": True, "is_superuser": True}
    )
    _token, key = AuthToken.objects.create(user=user)
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:LOAD_CUSTOMERS])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY,"
            " customer_id bigint NOT NULL, points integer NOT NULL,"
            " key varchar(255) NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())"
        )
    return key, customers


def _load(*, port: int, path: str, token: str, customers: list[int], arguments, prefix: str):
    """The client in its own process; its key=value lines as a dict."""
    completed = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "bench.points_client",
            "--url-template",
            f"http://127.0.0.1:{port}{path}",
            "--customers",
            ",".join(map(str, customers)),
            "--seconds",
            str(arguments.seconds),
            "--connections",
            str(arguments.connections),
            "--prefix",
            f"{prefix}-{secrets.token_hex(4)}",
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_POINTS_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split("=", 1) for line in completed.stdout.splitlines() if "=" in line)


def _earn_missing(*, port: int, token: str, customer: int) -> bool:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "POST",
        EARN_URL.format(customer=customer),
        body='{"points": 1, "reason": "bench probe"}',
        headers={
            "Authorization": f"Token {token}",
            "Idempotency-Key": f"probe-{secrets.token_hex(8)}",
            "Content-Type": "application/json",
        },
    )
    status = connection.getresponse().status
    connection.close()
    print(f"earn_probe_status={status}")
    return status == 404


# -- 2. the expiry ------------------------------------------------------------------------------


def _ledger_build(*, customers: int, entries: int, due_share: float, day: date) -> None:
    """Accounts, entries, lots, allocations and balances, set-based, once per bench database.

    Per account: `per - 1` earnings (100 to 499 points; the first `due` of them earned more
    than a year before `day`, so due; the others later, not due) and one redemption of 50
    points from the oldest lot; lots expire 12 months after the earning."""
    from django.db import connection, transaction

    from loyalty.models import PointsEntry, Program

    program = Program.objects.get(code=PROGRAM)
    if PointsEntry.objects.filter(key__startswith="b:", account__program=program).exists():
        print("ledger_reused=1")
        return
    per = max(entries // customers, 2)
    due = max(round((per - 1) * due_share), 1)
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loyalty_pointsaccount (customer_id, program_id, balance, created_at)"
            " SELECT id, %s, 0, now() FROM crm_customer ORDER BY id LIMIT %s"
            " ON CONFLICT (customer_id, program_id) DO NOTHING",
            [program.pk, customers],
        )
        cursor.execute(
            """
            INSERT INTO loyalty_pointsentry (account_id, kind, points, key, fingerprint,
                occurred_on, expires_on, note, details, created_at)
            SELECT a.id, 'earn', 100 + (a.id * 7 + j * 13) %% 400, 'b:e:' || a.id || ':' || j, '',
                   e.earned_on, e.earned_on + interval '12 months', '', '{}', now()
            FROM loyalty_pointsaccount a
            CROSS JOIN generate_series(0, %s - 2) j
            CROSS JOIN LATERAL (SELECT CASE WHEN j < %s
                THEN %s::date - 366 - CAST((%s - j) * 7 + a.id %% 7 AS integer)
                ELSE %s::date - 330 + CAST((j - %s) * 300 / %s + a.id %% 20 AS integer)
                END AS earned_on) e
            WHERE a.program_id = %s
            ORDER BY a.id, j
            """,
            [per, due, day, due, day, due, per, program.pk],
        )
        cursor.execute(
            "INSERT INTO loyalty_pointslot (entry_id, account_id, initial, remaining, expires_on)"
            " SELECT id, account_id, points, points, expires_on FROM loyalty_pointsentry"
            " WHERE kind = 'earn' AND key LIKE 'b:e:%%'"
        )
        cursor.execute(
            "INSERT INTO loyalty_pointsentry (account_id, kind, points, key, fingerprint,"
            " occurred_on, note, details, created_at)"
            " SELECT id, 'redeem', -50, 'b:r:' || id, '', %s::date - 400, '', '{}', now()"
            " FROM loyalty_pointsaccount WHERE program_id = %s",
            [day, program.pk],
        )
        cursor.execute(
            """
            WITH oldest AS (
                SELECT DISTINCT ON (l.account_id) l.account_id, l.entry_id
                FROM loyalty_pointslot l JOIN loyalty_pointsaccount a ON a.id = l.account_id
                WHERE a.program_id = %s ORDER BY l.account_id, l.expires_on, l.entry_id
            ), taken AS (
                UPDATE loyalty_pointslot l SET remaining = remaining - 50
                FROM oldest o WHERE l.entry_id = o.entry_id RETURNING l.entry_id, l.account_id
            )
            INSERT INTO loyalty_pointsallocation (entry_id, lot_id, points)
            SELECT r.id, t.entry_id, 50 FROM taken t
            JOIN loyalty_pointsentry r ON r.key = 'b:r:' || t.account_id
            """,
            [program.pk],
        )
        cursor.execute(
            "UPDATE loyalty_pointsaccount a SET balance = s.total FROM (SELECT account_id,"
            " SUM(points) AS total FROM loyalty_pointsentry GROUP BY account_id) s"
            " WHERE a.id = s.account_id AND a.program_id = %s",
            [program.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE loyalty_pointsentry, loyalty_pointslot, loyalty_pointsallocation,"
            " loyalty_pointsaccount"
        )
    print(f"ledger_build_s={time.monotonic() - started:.1f}")


EXPIRE_SQL = """
WITH due AS (
    SELECT entry_id, account_id, remaining, expires_on FROM loyalty_pointslot
    WHERE remaining > 0 AND expires_on <= %s
), expired AS (
    INSERT INTO loyalty_pointsentry (account_id, kind, points, key, fingerprint, occurred_on,
                                     note, details, created_at)
    SELECT account_id, 'expire', -remaining, 'expire:' || entry_id, '', expires_on, '', '{}',
           now()
    FROM due ORDER BY account_id, expires_on, entry_id
    RETURNING id, account_id, points, key
), allocated AS (
    INSERT INTO loyalty_pointsallocation (entry_id, lot_id, points)
    SELECT id, CAST(substr(key, 8) AS bigint), -points FROM expired
), balances AS (
    UPDATE loyalty_pointsaccount a SET balance = a.balance + s.points
    FROM (SELECT account_id, SUM(points) AS points FROM expired GROUP BY account_id) s
    WHERE a.id = s.account_id
)
UPDATE loyalty_pointslot l SET remaining = 0 FROM due WHERE l.entry_id = due.entry_id
"""


def _state() -> dict[int, tuple[int, int]]:
    """Every account's balance and open points."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.balance, COALESCE(SUM(l.remaining), 0) FROM loyalty_pointsaccount a"
            " LEFT JOIN loyalty_pointslot l ON l.account_id = a.id AND l.remaining > 0"
            " GROUP BY a.id"
        )
        return {row[0]: (row[1], int(row[2])) for row in cursor.fetchall()}


def _timed_and_rolled_back(run) -> tuple[float, dict[int, tuple[int, int]]]:
    from django.db import transaction

    with transaction.atomic():
        started = time.monotonic()
        run()
        elapsed = time.monotonic() - started
        state = _state()
        transaction.set_rollback(True)
    return elapsed, state


def _expiry(day: date) -> tuple[float, float, int, int]:
    from django.db import connection

    from loyalty.services.expiry import points_expire

    with connection.cursor() as cursor:  # warm the cache for both alike
        cursor.execute(
            "SELECT COUNT(*), SUM(remaining) FROM loyalty_pointslot"
            " WHERE remaining > 0 AND expires_on <= %s",
            [day],
        )
        due_lots, _due_points = cursor.fetchone()
    expire_s, by_service = _timed_and_rolled_back(lambda: points_expire(as_of=day))

    def by_hand() -> None:
        with connection.cursor() as cursor:
            cursor.execute(EXPIRE_SQL, [day])

    expire_sql_s, by_sql = _timed_and_rolled_back(by_hand)
    mismatches = sum(
        1 for key in by_service.keys() | by_sql.keys() if by_service.get(key) != by_sql.get(key)
    )
    return expire_s, expire_sql_s, mismatches, due_lots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--entries", type=int, default=5_000_000)
    parser.add_argument("--due-share", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2, help="for the demo data generator")
    arguments = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    from django.utils import timezone

    demo_database_prepare(bench="points", customers=arguments.customers, workers=arguments.workers)
    token, customers = _api_setup()
    day = timezone.localdate()

    port = free_port()
    server = server_start(port, settings_module="bench.points_settings")
    try:
        bare = _load(
            port=port,
            path=BARE_URL,
            token=token,
            customers=customers,
            arguments=arguments,
            prefix="bare",
        )
        earn_missing = _earn_missing(port=port, token=token, customer=customers[0])
        earn = {}
        if not earn_missing:
            earn = _load(
                port=port,
                path=EARN_URL,
                token=token,
                customers=customers,
                arguments=arguments,
                prefix="earn",
            )
    finally:
        server.terminate()
        server.wait(timeout=30)

    _ledger_build(
        customers=arguments.customers,
        entries=arguments.entries,
        due_share=arguments.due_share,
        day=day,
    )
    expire_s, expire_sql_s, mismatches, due_lots = _expiry(day)

    print(f"bench_day={day.isoformat()}")
    print(f"seconds={arguments.seconds:g}")
    print(f"connections={arguments.connections}")
    print(f"bare_rps={bare['rps']}")
    print(f"bare_errors={bare['errors']}")
    print(f"bare_statuses={bare['statuses']}")
    if earn_missing:
        print("earn_missing=1")
        print(
            "the earn API (POST /api/v1/loyalty/customers/{id}/points/bench/earn/) answered"
            " 404: not merged yet; earn_rps and earn_ratio need it",
            file=sys.stderr,
        )
    else:
        print(f"earn_rps={earn['rps']}")
        print(f"earn_p50_ms={earn['p50_ms']}")
        print(f"earn_p99_ms={earn['p99_ms']}")
        print(f"earn_errors={earn['errors']}")
        print(f"earn_statuses={earn['statuses']}")
    print(f"due_lots={due_lots}")
    print(f"expire_s={expire_s:.1f}")
    print(f"expire_sql_s={expire_sql_s:.1f}")
    print(f"expire_ratio={expire_s / expire_sql_s:.2f}")
    print(f"mismatches={mismatches}")
    if earn_missing or float(earn["rps"]) == 0:
        print("earn_ratio=n/a")
    else:
        print(f"earn_ratio={float(bare['rps']) / float(earn['rps']):.2f}")


if __name__ == "__main__":
    main()
