"""What the benchmarks on the demo data share: Django on a PostgreSQL database of their own,
migrated and filled with the demo generator up to the customers asked for."""

import os
import sys


def django_setup(default_database_url: str) -> None:
    os.environ.setdefault("DATABASE_URL", default_database_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()


def demo_database_prepare(*, bench: str, customers: int, workers: int) -> None:
    """Migrate, then generate demo customers while there are fewer than `customers`; prints
    `generate_s`."""
    from django.core.management import call_command
    from django.db import connection

    from crm.services.demo_data import demo_customers_count, demo_data_generate

    if connection.vendor != "postgresql":
        sys.exit(f"bench.{bench} needs PostgreSQL: set DATABASE_URL")
    _database_create_if_missing(connection.settings_dict)
    call_command("migrate", verbosity=0)
    generate_s = 0.0
    if demo_customers_count() < customers:
        generate_s = demo_data_generate(customers=customers, workers=workers).elapsed_s
    print(f"generate_s={generate_s:.1f}")


def _database_create_if_missing(settings: dict) -> None:
    """A fresh machine has no bench database: create it through the server's `postgres` one."""
    import psycopg
    from psycopg import sql

    params = {
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as server:
        found = server.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]
        ).fetchone()
        if found is None:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
