"""The customer changelist in admin at 1M customers, as the demo supervisor sees it.

    python -m bench.changelist [--customers 1000000] [--repeat 30] [--workers 2]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench` database), migrates it and
fills it with the demo data generator when it has fewer demo customers than asked. Prints
key=value lines; the headline p95 comes last.
"""

import argparse
import os
import statistics
import sys
import time

from bench.demo_database import demo_database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"


def _setup_django() -> None:
    hosts = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
    if "testserver" not in hosts.split(","):
        os.environ["DJANGO_ALLOWED_HOSTS"] = f"{hosts},testserver"
    django_setup(DEFAULT_DATABASE_URL)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _prepare(customers: int, workers: int) -> None:
    from django.db import connection

    demo_database_prepare(bench="changelist", customers=customers, workers=workers)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _cases(supervisor) -> dict[str, str]:
    """The three ways in: the first page, a phone search and a team filter (the own team)."""
    from crm.models import Customer, TeamMembership

    team_id = (
        TeamMembership.objects.filter(user=supervisor, role=TeamMembership.Role.SUPERVISOR)
        .values_list("team_id", flat=True)
        .first()
    )
    phones = (
        Customer.objects.filter(team_id=team_id)
        .exclude(phone="")
        .order_by("pk")
        .values_list("phone", flat=True)[:1000]
    )
    phone = list(phones)[-1]
    return {
        "first_page": "/admin/crm/customer/",
        "phone_search": f"/admin/crm/customer/?q={phone.national_number}",
        "team_filter": f"/admin/crm/customer/?team__id__exact={team_id}",
    }


def _name_cases(supervisor) -> dict[str, str]:
    """Searches by name, reported beside the headline: a whole name, and a two-character part
    (too short for the trigram index)."""
    from crm.models import Customer

    name = (
        Customer.objects.filter(kind=Customer.Kind.INDIVIDUAL, team__isnull=False)
        .order_by("pk")
        .values_list("name", flat=True)[500]
    )
    return {
        "name_search": f"/admin/crm/customer/?q={name}",
        "two_character_search": f"/admin/crm/customer/?q={name[-2:]}",
    }


def _measure(client, url: str, *, warmups: int, repeat: int) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmups):
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}")
    timings, query_counts = [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}")
        query_counts.append(len(queries))
    return timings, query_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="processes for the generator")
    args = parser.parse_args()

    _setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    _prepare(args.customers, args.workers)
    supervisor = get_user_model().objects.get(username="supervisor")
    client = Client()
    client.force_login(supervisor)

    all_timings: list[float] = []
    all_query_counts: set[int] = set()
    constant = True
    for name, url in _cases(supervisor).items():
        timings, query_counts = _measure(client, url, warmups=args.warmups, repeat=args.repeat)
        all_timings.extend(timings)
        all_query_counts.update(query_counts)
        print(f"{name}_p50_ms={statistics.median(timings):.1f}")
        print(f"{name}_p95_ms={_percentile(timings, 0.95):.1f}")
        print(f"{name}_queries={max(query_counts)}")
        if len(set(query_counts)) > 1:
            constant = False
            print(f"{name}_queries_vary={sorted(set(query_counts))}")
    for name, url in _name_cases(supervisor).items():
        timings, query_counts = _measure(client, url, warmups=args.warmups, repeat=args.repeat)
        print(f"{name}_p50_ms={statistics.median(timings):.1f}")
        print(f"{name}_p95_ms={_percentile(timings, 0.95):.1f}")
        print(f"{name}_queries={max(query_counts)}")
    print(f"requests={len(all_timings)}")
    print(f"queries={max(all_query_counts)}")
    print(f"queries_constant={int(constant)}")
    print(f"p50_ms={statistics.median(all_timings):.1f}")
    print(f"p95_ms={_percentile(all_timings, 0.95):.1f}")


if __name__ == "__main__":
    main()
