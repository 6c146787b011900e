"""`manage.py generate_demo_data --customers N [--seed S]`: see crm/services/demo_data/."""

from django.core.management.base import BaseCommand, CommandParser

from crm.services.demo_data import demo_data_generate


class Command(BaseCommand):
    help = (
        "Fill the database with a Chinese bank-and-shop demo customer base and the demo logins "
        "supervisor, rm1 and rm2 (password demo-pass-2026). Idempotent: only missing customers "
        "are added."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, required=True, help="How many demo customers there should be."
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=50_000,
            help="Customers written per transaction (default 50,000).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="Processes writing chunks at once on PostgreSQL (default 2; SQLite uses 1).",
        )

    def handle(
        self, *args, customers: int, seed: int, chunk_size: int, workers: int, **options
    ) -> None:
        summary = demo_data_generate(
            customers=customers, seed=seed, chunk_size=chunk_size, workers=workers
        )
        self.stdout.write(
            f"Demo customers: {summary.existing} existed, {summary.requested} requested."
        )
        for name, count in summary.created.items():
            self.stdout.write(f"  {name}: {count:,} created")
        self.stdout.write(self.style.SUCCESS(f"Done in {summary.elapsed_s:.1f}s."))
