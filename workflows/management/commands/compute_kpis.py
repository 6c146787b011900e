from datetime import date

from django.core.management.base import BaseCommand, CommandError

from workflows.kpis.snapshots import kpi_snapshots_compute


class Command(BaseCommand):
    help = "Compute the supervisors' KPIs of every scope for a day (today by default) now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="YYYY-MM-DD; today (local) by default")

    def handle(self, *args, day: str | None, **options) -> None:
        try:
            chosen = date.fromisoformat(day) if day else None
        except ValueError as error:
            raise CommandError(f"--day: {error}") from error
        scopes = kpi_snapshots_compute(day=chosen)
        self.stdout.write(f"scopes computed: {scopes}")
