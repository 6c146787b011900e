"""Enrol as events happen: crm's stored transactions and loyalty's tier changes run the
matching sequences' triggers over just the written rows (one INSERT per sequence), inside the
writing transaction. The hourly beat catches anything these miss; enrolment is idempotent.

Which trigger kinds have an active sequence is cached for a minute (dropped when a sequence
is saved or deleted here), so a batch of transactions costs no query when no sequence listens.
"""

import time
from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save

from crm.signals import transactions_stored
from loyalty.signals import membership_changes_recorded
from workflows.models import CareSequence
from workflows.models.sequences import TriggerKind
from workflows.sequences.triggers import sequences_enrol

CACHE_SECONDS = 60
_TRANSACTION_TRIGGERS = {TriggerKind.PURCHASE_IN_CATEGORY, TriggerKind.LARGE_TRANSFER}
_cache: dict[str, Any] = {"kinds": None, "at": 0.0}


def active_triggers_forget(*args: Any, **kwargs: Any) -> None:
    _cache["kinds"] = None


def active_triggers() -> set[str]:
    now = time.monotonic()
    if _cache["kinds"] is None or now - _cache["at"] > CACHE_SECONDS:
        kinds = CareSequence.objects.filter(is_active=True).values_list("trigger", flat=True)
        _cache["kinds"], _cache["at"] = set(kinds), now
    return _cache["kinds"]


def on_transactions_stored(sender: Any, *, transaction_ids, **kwargs: Any) -> None:
    wanted = _TRANSACTION_TRIGGERS & active_triggers()
    ids = list(transaction_ids) if wanted else []
    if ids:
        sequences_enrol(triggers=wanted, ids=ids)


def on_membership_changes_recorded(sender: Any, *, changes: QuerySet, **kwargs: Any) -> None:
    if TriggerKind.TIER_CHANGED in active_triggers():
        sequences_enrol(triggers=[TriggerKind.TIER_CHANGED], ids=changes.order_by().values("pk"))


def connect() -> None:
    transactions_stored.connect(on_transactions_stored, dispatch_uid="sequences_transactions")
    membership_changes_recorded.connect(
        on_membership_changes_recorded, dispatch_uid="sequences_membership_changes"
    )
    post_save.connect(active_triggers_forget, sender=CareSequence, dispatch_uid="seq_trig_save")
    post_delete.connect(active_triggers_forget, sender=CareSequence, dispatch_uid="seq_trig_del")
