"""A mixed API load on PostgreSQL while a Celery worker sends a campaign.

    python -m bench.mixed [--seconds 60] [--connections 4] [--customers 20000]
                          [--load-customers 2000] [--workers 2]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench` database) and Redis as the
broker (CELERY_BROKER_URL, default `redis://127.0.0.1:6379/0`); migrates the database and
fills it with demo customers when it has fewer than `--customers`, then seeds the programs,
ticket routing, a reward, balances for the `--load-customers` the load uses and tonight's
memberships (all idempotent: the next run reuses them).

gunicorn (2 sync workers, loopback, DEBUG off, every API throttle rate raised:
bench/mixed_settings.py) serves the project; a second process (bench/mixed_client.py) drives
it for `--seconds` with `--connections` connections: 70% reads (customer, balance,
memberships), 20% earns, 5% redemptions, 5% ticket creations (POST /api/v1/tickets/). Meanwhile
one Celery worker launches a campaign to every customer and the bench, as beat would, asks it
to dispatch the outbox every 2 s (file backend, quiet hours off).

After the run the ledger is checked (loyalty.ledger_check: every balance equals the sum of its
entries, lots and allocations agree) and no idempotency key, ledger key, ticket external id
or outbox line appears twice: `ledger_verified=1` when all hold.
Prints key=value lines: `rps=`, `p50_ms=`, `p99_ms=`, `errors=`, `ledger_verified=`, and the
headline `p99_ms=` again last.
"""

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bench.demo_database import demo_database_prepare, django_setup
from bench.server import free_port, server_start

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
API_USER = "bench_mixed_api"
PROGRAM = "bank"
REWARD = "bench-mixed reward"
SEED_POINTS = 1_000_000
TEMPLATE = "bench-mixed"
ROOT = Path(__file__).resolve().parent.parent


def _setup(load_customers: int) -> tuple[str, list[int], int]:
    """Programs, ticket routing, the API user and its token, the reward, balances, memberships."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from knox.models import AuthToken

    from crm.models import Customer
    from loyalty.models import PointsEntry, Program, Reward
    from loyalty.services.evaluation import program_evaluate
    from loyalty.services.ledger import account_get_or_create, credit

    call_command("seed_programs", verbosity=0)
    call_command("seed_tickets", verbosity=0)
    # A superuser: sees every customer and holds every permission the API may ask for.
    user, _created = get_user_model().objects.get_or_create(
        username=API_USER, defaults={"is_staff": True, "is_superuser": True}
    )
    _token, key = AuthToken.objects.create(user=user)
    program = Program.objects.get(code=PROGRAM)
    reward, _created = Reward.objects.get_or_create(
        program=program,
        name=REWARD,
        defaults={"points_price": 10, "value": Decimal("1.00"), "stock": 1_000_000_000},
    )
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:load_customers])
    seeded = set(
        PointsEntry.objects.filter(key__startswith="bench-mixed:seed:").values_list(
            "account__customer_id", flat=True
        )
    )
    started = time.monotonic()
    expires_on = timezone.localdate() + timedelta(days=3650)
    for customer_id in customers:
        if customer_id in seeded:
            continue
        account = account_get_or_create(customer_id=customer_id, program_id=program.pk)
        credit(
            account=account,
            kind="earn",
            points=SEED_POINTS,
            key=f"bench-mixed:seed:{customer_id}",
            expires_on=expires_on,
        )
    print(f"seed_s={time.monotonic() - started:.1f}")
    started = time.monotonic()
    yesterday = timezone.localdate() - timedelta(days=1)
    for active in Program.objects.filter(is_active=True):
        program_evaluate(program_id=active.pk, as_of=yesterday)
    print(f"evaluate_s={time.monotonic() - started:.1f}")
    return key, customers, reward.pk


def _campaign():
    """A campaign to every customer, due now (its occasion is its own: campaign:<pk>)."""
    from django.utils import timezone

    from crm.models import Segment
    from loyalty.models import Program
    from workflows.models import Campaign, MessageTemplate

    MessageTemplate.objects.get_or_create(
        code=TEMPLATE, channel="sms", language="en",
        defaults={"purpose": "marketing", "body": "Spring offer for {{ customer.name }}"},
    )  # fmt: skip
    segment, _created = Segment.objects.get_or_create(
        name="bench-mixed: everyone", defaults={"definition": {}}
    )
    return Campaign.objects.create(
        name=f"bench-mixed {secrets.token_hex(3)}",
        segment=segment,
        offer_kind="reward",
        offer={"points": 100},
        program=Program.objects.get(code=PROGRAM),
        channel="sms",
        template_code=TEMPLATE,
        scheduled_at=timezone.now() - timedelta(minutes=1),
        state=Campaign.State.SCHEDULED,
    )


def _worker_start(outbox_file: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "WORKFLOWS_OUTBOX_FILE": str(outbox_file),
        "WORKFLOWS_QUIET_HOURS": "00:00-00:00",  # the bench runs whatever the hour
        "WORKFLOWS_MARKETING_PER_DAY": "1000",  # and as often as it likes
        "WORKFLOWS_MARKETING_PER_WEEK": "1000",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "-n",
         f"bench-mixed-{secrets.token_hex(3)}@%h"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip


def _load(*, port: int, token: str, customers: list[int], reward: int, arguments, prefix: str):
    """The client in its own process, started now; its key=value lines come at the end."""
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.mixed_client", "--base", f"http://127.0.0.1:{port}",
         "--customers", ",".join(map(str, customers)), "--program", PROGRAM,
         "--reward", str(reward), "--seconds", str(arguments.seconds),
         "--connections", str(arguments.connections), "--prefix", prefix],
        cwd=ROOT,
        env={**os.environ, "BENCH_MIXED_TOKEN": token},
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _warm_up(*, port: int, token: str, customer: int) -> None:
    """Each gunicorn worker loads the project on its first requests (about 10 s here): warm
    both before the clock starts, with every read the load makes."""
    import http.client

    paths = [
        f"/api/v1/customers/{customer}/",
        f"/api/v1/loyalty/customers/{customer}/points/",
        f"/api/v1/loyalty/customers/{customer}/memberships/",
        "/api/v1/tickets/",
    ]

    def rounds() -> None:
        for _round in range(10):
            for path in paths:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", path, headers={"Authorization": f"Token {token}"})
                connection.getresponse().read()
                connection.close()

    # Two at once: while one worker loads, the other takes the second thread's requests.
    threads = [threading.Thread(target=rounds) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _verify(*, prefix: str, outbox_file: Path) -> dict[str, int]:
    """The ledger's invariants and the uniqueness of every key the run wrote."""
    from django.db import connection

    from loyalty.ledger_check import ledger_check

    broken = sum(result.count for result in ledger_check() if result.is_broken)
    checks = {"ledger_broken": broken}
    duplicate_sql = {
        "duplicate_ledger_keys": "SELECT key FROM loyalty_pointsentry WHERE key LIKE %s"
        " GROUP BY key HAVING COUNT(*) > 1",
        "duplicate_idempotency_keys": "SELECT user_id, key FROM loyalty_idempotencykey"
        " WHERE key LIKE %s GROUP BY user_id, key HAVING COUNT(*) > 1",
        "duplicate_ticket_ids": "SELECT external_id FROM workflows_ticket"
        " WHERE external_id LIKE %s GROUP BY external_id HAVING COUNT(*) > 1",
    }
    with connection.cursor() as cursor:
        for name, sql in duplicate_sql.items():
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) d", [f"%{prefix}%"])
            checks[name] = cursor.fetchone()[0]
    lines = Counter(line.split("\t", 1)[0] for line in outbox_file.read_text().splitlines() if line)
    checks["duplicate_outbox_lines"] = sum(1 for count in lines.values() if count > 1)
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--load-customers", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="for the demo data generator")
    parser.add_argument(
        "--no-campaign", action="store_true", help="the load alone, to see what the campaign costs"
    )
    arguments = parser.parse_args()
    os.environ.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER_URL)
    django_setup(DEFAULT_DATABASE_URL)
    demo_database_prepare(bench="mixed", customers=arguments.customers, workers=arguments.workers)
    token, customers, reward = _setup(arguments.load_customers)

    from config.celery import app
    from workflows.models import CampaignMember, Message
    from workflows.tasks import campaigns_launch_task, outbox_dispatch_task

    prefix = f"mixed-{secrets.token_hex(4)}"
    outbox_file = Path(tempfile.mkdtemp(prefix="bench-mixed-")) / "outbox.log"
    outbox_file.touch()
    campaign = _campaign()
    app.control.purge()
    worker = _worker_start(outbox_file)
    port = free_port()
    server = server_start(
        port, settings_module="bench.mixed_settings", extra_env={"API_THROTTLE_RATE": "1000000/s"}
    )
    try:
        _warm_up(port=port, token=token, customer=customers[0])
        client = _load(
            port=port,
            token=token,
            customers=customers,
            reward=reward,
            arguments=arguments,
            prefix=prefix,
        )
        if not arguments.no_campaign:
            campaigns_launch_task.delay()
        while client.poll() is None:
            if not arguments.no_campaign:
                outbox_dispatch_task.delay()  # what beat does every minute, more often
            time.sleep(2)
        output, _ = client.communicate()
    finally:
        server.terminate()
        server.wait(timeout=30)
        worker.terminate()
        worker.wait(timeout=60)
    load = dict(line.split("=", 1) for line in output.splitlines() if "=" in line)
    checks = _verify(prefix=prefix, outbox_file=outbox_file)
    offered = CampaignMember.objects.filter(campaign=campaign, is_control=False).count()
    states = Counter(
        Message.objects.filter(occasion=campaign.occasion).values_list("state", flat=True)
    )

    print(f"seconds={arguments.seconds:g}")
    print(f"connections={arguments.connections}")
    print(f"campaign={int(not arguments.no_campaign)}")
    for name, value in load.items():
        if name not in {"rps", "p50_ms", "p99_ms", "errors"}:
            print(f"{name}={value}")
    print(f"campaign_offered={offered}")
    # Refused: mostly customers without SMS marketing consent; queued: not reached in time.
    for state in ("sent", "refused", "held", "queued", "sending", "failed"):
        print(f"campaign_{state}={states[state]}")
    # Every message the worker sent, earlier runs' unsent campaign messages included.
    print(f"outbox_lines={len(outbox_file.read_text().splitlines())}")
    for name, value in checks.items():
        print(f"{name}={value}")
    print(f"rps={load['rps']}")
    print(f"p50_ms={load['p50_ms']}")
    print(f"p99_ms={load['p99_ms']}")
    print(f"errors={load['errors']}")
    print(f"ledger_verified={int(not any(checks.values()))}")
    print(f"p99_ms={load['p99_ms']}")


if __name__ == "__main__":
    main()
