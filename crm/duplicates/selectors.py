"""Reads of possible duplicates: the pairs a user may review, and what each customer owns."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from crm.models import DuplicatePair
from crm.selectors import User, customer_visibility_q
from crm.services.merges import customer_owned_relations


def duplicate_pair_visibility_q(user: User) -> Q:
    """Pairs whose two customers the user may both see."""
    return customer_visibility_q(user, prefix="customer__") & customer_visibility_q(
        user, prefix="other__"
    )


def duplicate_pair_list(*, user: User) -> QuerySet[DuplicatePair]:
    return DuplicatePair.objects.filter(duplicate_pair_visibility_q(user))


def customer_owned_counts(*, customer_ids: list[int]) -> list[tuple[str, dict[int, int]]]:
    """For each kind of row a customer owns, how many each customer has: what a merge moves.

    One GROUP BY per relation (about ten, bounded), each on the relation's customer index.
    """
    counts = []
    for relation in customer_owned_relations():
        column = relation.field.name
        per_customer = dict(
            relation.model._base_manager.filter(**{f"{column}__in": customer_ids})
            .order_by()
            .values_list(column)
            .annotate(n=Count("pk"))
            .values_list(column, "n")
        )
        counts.append((str(relation.model._meta.verbose_name_plural), per_customer))
    return counts
