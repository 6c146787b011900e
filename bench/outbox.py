"""The outbox under load on PostgreSQL + Redis: a campaign of marketing SMS dispatched by real
worker processes to the file backend, with the rules on and then off.

    python -m bench.outbox [--messages 100000] [--workers 2]

Uses the local `loyalty_bench` database (DATABASE_URL) and its demo customers. Known shares
fail the rules: every 20th customer has a recent bereavement (suppressed), every 15th has had
today's two marketing messages already (frequency cap), every 25th
message has expired, the demo data's students get a loan offer share (the offer is a loan for
every 10th message), and customers without SMS marketing consent are refused. Quiet hours
are switched off for the workers ("00:00-00:00"): the bench runs whatever the hour.
Prints key=value lines, the headline `policy_overhead_ratio` last.
"""

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.demo_database import demo_database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"
ROOT = Path(__file__).resolve().parent.parent
OCCASION = "bench-outbox"


def _prepare(messages: int) -> list[int]:
    from django.db import connection

    from crm.models import Customer
    from workflows.models import Message, MessageTemplate, SensitiveEvent

    Message.objects.filter(occasion__startswith=OCCASION).delete()
    SensitiveEvent.objects.filter(note=OCCASION).delete()
    MessageTemplate.objects.get_or_create(
        code=OCCASION, channel="sms", language="en",
        defaults={"purpose": "marketing", "body": "Hello {{ customer.name }}"},
    )  # fmt: skip
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:messages])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO workflows_sensitiveevent (customer_id, kind, occurred_on,"
            " suppressed_until, note, recorded_at) SELECT id, 'bereavement', CURRENT_DATE,"
            " CURRENT_DATE + 30, %s, now() FROM crm_customer WHERE id = ANY(%s) AND id %% 20 = 0",
            [OCCASION, ids],
        )
        # Every 15th customer had today's two marketing messages already: the cap refuses.
        cursor.execute(
            "INSERT INTO workflows_message (key, customer_id, channel, purpose, offer_kind,"
            " occasion, language, subject, body, recipient, state, refusal, not_before,"
            " attempts, claimed_at, sent_at, provider_id, error, created_at)"
            " SELECT %s || ':' || id || ':' || n, id, 'sms', 'marketing', 'none', %s, '', '',"
            " '', '', 'sent', '', now() - interval '2 hours', 1, now() - interval '2 hours',"
            " now() - interval '2 hours',"
            " '', '', now() - interval '2 hours'"
            " FROM crm_customer, generate_series(1, 2) AS n"
            " WHERE id = ANY(%s) AND id %% 15 = 4",
            [f"{OCCASION}-earlier", f"{OCCASION}-earlier", ids],
        )
    return ids


def _enqueue(ids: list[int], occasion: str) -> float:
    from django.db import connection

    from crm.models import Customer
    from workflows.outbox.enqueue import messages_enqueue_for

    started = time.perf_counter()
    messages_enqueue_for(
        Customer.objects.filter(pk__in=ids), channel="sms", purpose="marketing",
        occasion=occasion, template_code=OCCASION,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE workflows_message SET expires_at = now() - interval '1 hour'"
            " WHERE occasion = %s AND customer_id %% 25 = 1",
            [occasion],
        )
        cursor.execute(
            "UPDATE workflows_message SET offer_kind = 'loan'"
            " WHERE occasion = %s AND customer_id %% 10 = 3",
            [occasion],
        )
    return time.perf_counter() - started


def _dispatch(*, workers: int, occasion: str, rules_off: bool, outbox_file: Path) -> float:
    from workflows.models import Message

    env = {
        **os.environ,
        "WORKFLOWS_OUTBOX_FILE": str(outbox_file),
        "WORKFLOWS_QUIET_HOURS": "00:00-00:00",
        **({"DJANGO_SETTINGS_MODULE": "bench.outbox_settings"} if rules_off else {}),
        "LOG_LEVEL": "WARNING",
    }
    from workflows.tasks import outbox_dispatch_task

    procs = [
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"bench{i}@%h",
            ],
            cwd=ROOT,
            env=env,
        )  # fmt: skip
        for i in range(workers)
    ]
    try:
        time.sleep(3)  # the workers start before the clock does
        due = Message.objects.filter(occasion=occasion, state__in=["queued", "held"])
        started = time.perf_counter()
        for _ in range(workers):
            outbox_dispatch_task.delay()
        while due.exists():
            time.sleep(0.05)
        while Message.objects.filter(occasion=occasion, state="sending").exists():
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    django_setup(DEFAULT_DATABASE_URL)
    demo_database_prepare(bench="outbox", customers=args.messages, workers=2)
    from django.conf import settings

    from config.celery import app
    from workflows.models import Message

    app.control.purge()
    ids = _prepare(args.messages)
    outbox_file = Path(settings.VAR_DIR) / "bench-outbox.log"
    outbox_file.unlink(missing_ok=True)
    enqueue_s = _enqueue(ids, f"{OCCASION}:on")
    with_rules_s = _dispatch(
        workers=args.workers, occasion=f"{OCCASION}:on", rules_off=False, outbox_file=outbox_file
    )
    lines = [line.split("\t", 1)[0] for line in outbox_file.read_text().splitlines()]
    duplicates = sum(1 for count in Counter(lines).values() if count > 1)
    refused = dict(
        Counter(
            Message.objects.filter(occasion=f"{OCCASION}:on", state="refused").values_list(
                "refusal", flat=True
            )
        )
    )
    _enqueue(ids, f"{OCCASION}:off")
    without_rules_s = _dispatch(
        workers=args.workers, occasion=f"{OCCASION}:off", rules_off=True, outbox_file=outbox_file
    )
    print(f"messages={len(ids)}")
    print(f"enqueue_s={enqueue_s:.2f}")
    print(f"dispatch_s={with_rules_s:.2f}")
    print(f"dispatch_msgs_per_s={len(ids) / with_rules_s:.0f}")
    print(f"sent={len(set(lines))}")
    print(f"refused_by_reason={refused}")
    print(f"duplicates={duplicates}")
    print(f"dispatch_without_rules_s={without_rules_s:.2f}")
    print(f"policy_overhead_ratio={with_rules_s / without_rules_s:.2f}")


if __name__ == "__main__":
    main()
