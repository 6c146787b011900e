"""Earning: points for new transactions and interactions, in the transaction that stored them.

crm sends `crm.signals.transactions_stored` / `interactions_stored` from inside its writing
transaction (API batches, import chunks, admin); the receivers below call these services, so
the points commit with the rows or not at all. A transaction earns once per program (unique
key `earn:{program}:{transaction}`), whatever happens to be sent twice.
"""

from django.db import transaction
from django.utils import timezone

from loyalty.earning.reviews import interactions_earn_pass
from loyalty.earning.transactions import transactions_earn_pass
from loyalty.models import PointsEntry
from loyalty.signals import points_posted


@transaction.atomic
def transactions_earn(*, transaction_ids: list[int]) -> int:
    """Earn for these (new) transactions, pay referral commissions, reverse refunds; the number
    of earn entries created. A fixed number of statements, plus a few per refund."""
    created = transactions_earn_pass(transaction_ids=list(transaction_ids), now=timezone.now())
    if created:
        points_posted.send(
            sender=PointsEntry,
            entries=PointsEntry.objects.filter(
                transaction_id__in=transaction_ids, kind=PointsEntry.Kind.EARN
            ),
        )
    return created


@transaction.atomic
def interactions_earn(*, interaction_ids: list[int]) -> int:
    """Bonuses for interactions such as reviews; the number of entries created."""
    return interactions_earn_pass(interaction_ids=list(interaction_ids), now=timezone.now())


def on_transactions_stored(sender, *, transaction_ids, **kwargs) -> None:
    transactions_earn(transaction_ids=transaction_ids)


def on_interactions_stored(sender, *, interaction_ids, **kwargs) -> None:
    interactions_earn(interaction_ids=interaction_ids)
