from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from loyalty.services.customer_values import customer_values_refresh


class Command(BaseCommand):
    help = (
        "Fit the lifetime value models (BG/NBD and Gamma-Gamma) on the purchases up to a day "
        "(yesterday by default) and rescore every customer now, as the nightly task does."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD; yesterday (local) by default")

    def handle(self, *args, as_of: str | None, **options) -> None:
        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate() - timedelta(days=1)
        except ValueError as error:
            raise CommandError(f"--as-of: {error}") from error
        try:
            result = customer_values_refresh(as_of=day)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"customers scored as of {day}: {result.run.customers}")
