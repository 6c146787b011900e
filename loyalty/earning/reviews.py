"""Bonuses for interactions (a quality review: +50 points), once per interaction and program.

Interactions arrive one at a time from admin, so they are read into Python with one query and
posted through the same set-based posting as purchases (key `review:{program}:{interaction}`).
"""

from datetime import datetime

from django.utils import timezone

from crm.models import Interaction
from loyalty.earning.posting import (
    posting_accounts_fill,
    posting_apply,
    posting_rows_add,
    scratch_tables,
)
from loyalty.earning.rules import program_rules_load
from loyalty.models import Program
from loyalty.services.ledger import expiry_for


def interactions_earn_pass(*, interaction_ids: list[int], now: datetime) -> int:
    programs = [p for p in program_rules_load() if p.interaction_bonuses]
    if not programs or not interaction_ids:
        return 0
    kinds = {rule.interaction_kind for p in programs for rule in p.interaction_bonuses}
    interactions = list(
        Interaction.objects.filter(pk__in=interaction_ids, kind__in=kinds).values_list(
            "pk", "customer_id", "kind", "occurred_at"
        )
    )
    rows = []
    for pk, customer_id, kind, occurred_at in interactions:
        day = timezone.localdate(occurred_at)
        for program in programs:
            bonuses = [
                rule
                for rule in program.interaction_bonuses
                if rule.interaction_kind == kind and rule.is_valid_on(day)
            ]
            points = sum(rule.points or 0 for rule in bonuses)
            if points <= 0:
                continue
            expires_on = expiry_for(Program(points_expiry_months=program.points_expiry_months), day)
            rules = ", ".join(str(rule.id) for rule in bonuses)
            rows.append(
                {
                    "customer_id": customer_id,
                    "program_id": program.program_id,
                    "key": f"{kind}:{program.program_id}:{pk}",
                    "points": points,
                    "occurred_on": day,
                    "expires_on": expires_on,
                    "transaction_id": None,
                    "details": f'{{"rules": [{rules}], "interaction_id": {int(pk)}}}',
                    "sort_key": pk,
                }
            )
    if not rows:
        return 0
    with scratch_tables({}):
        posting_rows_add(rows)
        posting_accounts_fill(now=now)
        return posting_apply(now=now)
