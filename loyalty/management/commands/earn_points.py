"""Earn for transactions and reviews already stored: after a program or a rule is switched on,
or for the demo data, which is written without crm's signals.

Walks the rows in id order, `--batch` at a time, each batch one set-based earning pass in its
own transaction. Whatever earned before (unique key per transaction and program) earns
nothing again, so the command can be stopped and run again.
"""

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm.models import Interaction, Transaction
from loyalty.services.earning import interactions_earn, transactions_earn


class Command(BaseCommand):
    help = "Earn points for stored transactions and reviews (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since", type=date.fromisoformat, help="Only rows from this local day (YYYY-MM-DD)."
        )
        parser.add_argument("--batch", type=int, default=5_000)

    def handle(self, *args, since: date | None, batch: int, **options) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        starts_at = timezone.make_aware(datetime.combine(since, time.min)) if since else None
        transactions = Transaction.objects.all()
        reviews = Interaction.objects.filter(kind=Interaction.Kind.REVIEW)
        if starts_at is not None:
            transactions = transactions.filter(occurred_at__gte=starts_at)
            reviews = reviews.filter(occurred_at__gte=starts_at)
        earned = sum(
            transactions_earn(transaction_ids=ids) for ids in _id_batches(transactions, batch)
        )
        earned += sum(interactions_earn(interaction_ids=ids) for ids in _id_batches(reviews, batch))
        self.stdout.write(f"entries_created={earned}")


def _id_batches(queryset, size: int):
    """Ids in ascending order, `size` at a time, by keyset (no OFFSET)."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]
