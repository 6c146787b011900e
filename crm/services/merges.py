"""Merging a duplicate customer into the one that stays, with everything the duplicate owns.

What moves is never listed by hand: every relation that points at Customer (found through
`Customer._meta`, hidden ones included) moves with one UPDATE, unless it is one of the few
relations below that are not ownership. A relation a later app adds therefore moves too; if its
table has a unique constraint that includes the customer, rows of the duplicate that would
clash with the survivor's are resolved by the relation's clash policy (registered here, or by
the app with `clash_policy_register`), and by default the survivor's row is kept and the
duplicate's dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, ForeignObjectRel, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalChanges

from crm.models import BalanceSnapshot, Consent, Customer, CustomerMerge, DuplicatePair
from crm.selectors import customer_visibility_q

# Relations to Customer that are not something a customer owns. Each is handled on its own in
# `customer_merge`, and the merge test checks this list is exactly what it expects.
NOT_OWNERSHIP: dict[str, str] = {
    # Customers merged earlier into the duplicate are re-pointed to the survivor, so that
    # `merged_into` always leads to a customer that is not merged itself.
    "crm.Customer.merged_into": "re-pointed to the survivor",
    # Earlier merges stay as they were recorded.
    "crm.CustomerMerge.survivor": "history",
    "crm.CustomerMerge.merged": "history",
    # Possible-duplicate pairs are about customers, not owned by them: the merged pair is marked
    # merged and the duplicate's other pairs are re-pointed to the survivor.
    "crm.DuplicatePair.customer": "re-pointed to the survivor",
    "crm.DuplicatePair.other": "re-pointed to the survivor",
    # PIPL: requests and accesses stay recorded against the customer they were about.
    "crm.PrivacyRequest.customer": "history",
    "crm.CustomerAccessLog.customer": "history",
}
# History rows (simple-history) keep pointing at the customer they described then.
HISTORY = "history"

MERGE_REASON_MAX = 100  # simple-history's change reason column


@dataclass(frozen=True)
class Relation:
    """A foreign key (or one-to-one) on `model` that points at Customer."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def is_history(self) -> bool:
        return issubclass(self.model, HistoricalChanges)

    @property
    def is_ownership(self) -> bool:
        return not self.is_history and self.label not in NOT_OWNERSHIP


def customer_relations() -> list[Relation]:
    """Every foreign key pointing at Customer, hidden ones (related_name="+") included.

    Many-to-many relations are left out here because their through table's foreign key to
    Customer is a relation of its own in this list (auto-created through tables too).
    """
    relations = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel) or rel.many_to_many:
            continue
        relations.append(Relation(model=rel.related_model, field=rel.field))  # type: ignore[arg-type]
    return relations


def customer_owned_relations() -> list[Relation]:
    return [relation for relation in customer_relations() if relation.is_ownership]


# --- Clashes on unique constraints ----------------------------------------------------------


@dataclass
class Clash:
    """The duplicate's rows of one relation that a unique constraint would refuse to move."""

    relation: Relation
    rows: QuerySet  # the duplicate's clashing rows
    survivor_id: int
    merged_id: int
    actor: Any
    reason: str
    # The duplicate's rows the policy leaves with the duplicate: records that can neither move
    # nor be deleted (a points account emptied into the survivor's keeps its entries).
    kept: set[int] = field(default_factory=set)


ClashPolicy = Callable[[Clash], dict[str, int]]
_CLASH_POLICIES: dict[str, ClashPolicy] = {}
# Run before anything moves, with (survivor_id, merged_id, actor, reason): for rows that would
# break a constraint once both customers are one (a referral of one by the other).
MergePreparation = Callable[[int, int, Any, str], dict[str, int]]
_PREPARATIONS: dict[str, MergePreparation] = {}


def merge_preparation_register(label: str) -> Callable[[MergePreparation], MergePreparation]:
    """Decorate what an app does before a merge moves rows, reported under `label`."""

    def register(preparation: MergePreparation) -> MergePreparation:
        _PREPARATIONS[label] = preparation
        return preparation

    return register


def clash_policy_register(label: str) -> Callable[[ClashPolicy], ClashPolicy]:
    """Decorate how a relation ("app.Model.field") resolves rows that clash on a merge."""

    def register(policy: ClashPolicy) -> ClashPolicy:
        _CLASH_POLICIES[label] = policy
        return policy

    return register


def _rows_delete(rows: QuerySet, *, actor, reason: str) -> int:
    """Delete rows; tracked models one by one so that history names the actor and the merge."""
    model = rows.model
    if _history_manager(model) is None:
        deleted, _per_model = rows.delete()
        return deleted
    count = 0
    for row in rows:
        row._history_user = actor
        row._change_reason = reason
        row.delete()
        count += 1
    return count


def _keep_survivors_rows(clash: Clash) -> dict[str, int]:
    """The default: the survivor's row stays, the duplicate's clashing row is dropped.

    Only for rows nothing else points at: dropping a row that owns others (a points account
    with its ledger) would silently delete them; such a relation needs a policy of its own.
    """
    model = clash.relation.model
    dependants = [
        rel
        for rel in model._meta.get_fields(include_hidden=True)
        if isinstance(rel, ForeignObjectRel)
        and not issubclass(rel.related_model, HistoricalChanges)  # type: ignore[arg-type]
    ]
    if dependants:
        raise ImproperlyConfigured(
            f"{clash.relation.label} has rows that clash on merge and own other rows: "
            "register a clash policy with crm.services.merges.clash_policy_register."
        )
    return {"dropped": _rows_delete(clash.rows, actor=clash.actor, reason=clash.reason)}


@clash_policy_register("crm.CustomerTag.customer")
def _tags_clash(clash: Clash) -> dict[str, int]:
    # Both carry the same tag: the survivor's tagging stays (rule tags are recomputed nightly
    # anyway); the duplicate's copy adds nothing.
    return _keep_survivors_rows(clash)


@clash_policy_register("crm.BalanceSnapshot.customer")
def _balances_clash(clash: Clash) -> dict[str, int]:
    # A snapshot is the day's total over the accounts a source system holds under that customer
    # record; a duplicate record has its own accounts (opened in the app, then at a branch), so
    # after the merge the person's total for the day is the sum of both. A snapshot in another
    # currency cannot be added: the survivor's is kept and the duplicate's dropped.
    same_day = BalanceSnapshot.objects.filter(
        customer_id=clash.merged_id, date=OuterRef("date"), currency=OuterRef("currency")
    )
    combined = (
        BalanceSnapshot.objects.filter(customer_id=clash.survivor_id)
        .filter(Exists(same_day))
        .update(amount=F("amount") + Subquery(same_day.values("amount")[:1]))
    )
    dropped = _rows_delete(clash.rows, actor=clash.actor, reason=clash.reason)
    return {"combined": combined, "dropped": dropped - combined}


def _consent_decided_at(consent: Consent) -> datetime:
    moments = [moment for moment in (consent.granted_at, consent.withdrawn_at) if moment]
    return max(moments) if moments else datetime.min.replace(tzinfo=UTC)


@clash_policy_register("crm.Consent.customer")
def _consents_clash(clash: Clash) -> dict[str, int]:
    # One answer per channel and purpose: the most recent decision wins, whichever record it was
    # given on (a withdrawal made last week beats a grant from two years ago). At most one row
    # per channel and purpose, so a handful of rows.
    ours = {
        (consent.channel, consent.purpose): consent
        for consent in Consent.objects.filter(customer_id=clash.survivor_id)
    }
    taken = 0
    for theirs in clash.rows:
        kept = ours[(theirs.channel, theirs.purpose)]
        if _consent_decided_at(theirs) > _consent_decided_at(kept):
            fields = ["is_granted", "granted_at", "withdrawn_at", "evidence"]
            for name in fields:
                setattr(kept, name, getattr(theirs, name))
            kept._history_user = clash.actor  # type: ignore[attr-defined]
            kept._change_reason = clash.reason  # type: ignore[attr-defined]
            kept.save(update_fields=fields)
            taken += 1
    dropped = _rows_delete(clash.rows, actor=clash.actor, reason=clash.reason)
    return {"decision_taken": taken, "dropped": dropped}


def _unique_sets(relation: Relation) -> list[tuple[tuple[str, ...], Q | None]]:
    """The other fields of each unique constraint that includes the customer (and its
    condition): the duplicate's row clashes when a survivor's row has the same values."""
    model, name = relation.model, relation.field.name
    sets: list[tuple[tuple[str, ...], Q | None]] = []
    if relation.field.unique:
        sets.append(((), None))
    for together in model._meta.unique_together:
        if name in together:
            sets.append((tuple(field for field in together if field != name), None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and name in constraint.fields:
            rest = tuple(field for field in constraint.fields if field != name)
            sets.append((rest, constraint.condition))
    return sets


def _clashing_rows(
    relation: Relation, rest: tuple[str, ...], condition: Q | None, survivor_id, merged_id
) -> QuerySet:
    manager = relation.model._base_manager
    name = relation.field.name
    theirs = manager.filter(**{name: merged_id})
    ours = manager.filter(**{name: survivor_id}, **{field: OuterRef(field) for field in rest})
    if condition is not None:
        theirs, ours = theirs.filter(condition), ours.filter(condition)
    return theirs.filter(Exists(ours))


# --- Moving ---------------------------------------------------------------------------------


def _history_manager(model: type[models.Model]):
    attribute = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, attribute) if attribute else None


def _relation_move(relation: Relation, *, survivor_id: int, merged_id: int, actor, reason: str):
    counts: dict[str, int] = {}
    policy = _CLASH_POLICIES.get(relation.label, _keep_survivors_rows)
    kept: set[int] = set()
    for rest, condition in _unique_sets(relation):
        rows = _clashing_rows(relation, rest, condition, survivor_id, merged_id).exclude(
            pk__in=kept
        )
        if not rows.exists():
            continue
        clash = Clash(relation, rows, survivor_id, merged_id, actor, reason)
        for key, value in policy(clash).items():
            counts[key] = counts.get(key, 0) + value
        kept |= clash.kept
    name = relation.field.name
    rows = relation.model._base_manager.filter(**{name: merged_id}).exclude(pk__in=kept)
    history = _history_manager(relation.model)
    moved_ids = list(rows.values_list("pk", flat=True)) if history is not None else None
    counts["moved"] = rows.update(**{name: survivor_id})
    if history is not None and moved_ids:
        history.bulk_history_create(
            relation.model._base_manager.filter(pk__in=moved_ids),
            update=True,
            default_user=actor,
            default_change_reason=reason,
        )
    return counts


def _pairs_repoint(*, survivor_id: int, merged_id: int, merged_pair_id: int | None) -> int:
    """The duplicate's other pairs now concern the survivor: open ones and "not a duplicate"
    decisions are carried over (unless the survivor already has a pair with that customer);
    open ones of the duplicate are then removed, decided ones kept as the record of the past."""
    pairs = [
        pair
        for pair in DuplicatePair.objects.filter(
            Q(customer_id=merged_id) | Q(other_id=merged_id)
        ).exclude(status=DuplicatePair.Status.MERGED)
        if pair.pk != merged_pair_id
    ]
    carried = []
    for pair in pairs:
        other = pair.other_id if pair.customer_id == merged_id else pair.customer_id
        if other == survivor_id:
            continue
        low, high = sorted((survivor_id, other))
        carried.append(
            DuplicatePair(
                customer_id=low,
                other_id=high,
                score=pair.score,
                reasons=pair.reasons,
                status=pair.status,
                found_at=pair.found_at,
                decided_by_id=pair.decided_by_id,
                decided_at=pair.decided_at,
            )
        )
    DuplicatePair.objects.bulk_create(carried, ignore_conflicts=True)
    DuplicatePair.objects.filter(
        pk__in=[pair.pk for pair in pairs if pair.status == DuplicatePair.Status.OPEN]
    ).delete()
    return len(carried)


def _refuse(message, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def customer_merge(
    *, actor, survivor_id: int, merged_id: int, pair_id: int | None = None
) -> CustomerMerge:
    """Merge customer `merged_id` into `survivor_id`, in one transaction.

    Everything the duplicate owns moves to the survivor; the duplicate is kept, with status
    MERGED and `merged_into` the survivor; the survivor takes the duplicate's phone, e-mail and
    birth date where it has none. Needs crm.merge_customers and both customers visible to the
    actor (else `Customer.DoesNotExist`, a 404 to the admin).
    """
    if not actor.has_perm("crm.merge_customers"):
        raise _refuse(_("You may not merge customers."), "permission_denied")
    if survivor_id == merged_id:
        raise _refuse(_("A customer cannot be merged into itself."), "same_customer")
    with transaction.atomic(durable=True):
        # Locked in pk order (as every service that locks two customers must), so that two
        # merges of the same customers wait for each other instead of deadlocking.
        locked = {
            customer.pk: customer
            for customer in Customer.objects.select_for_update()
            .filter(customer_visibility_q(actor), pk__in=[survivor_id, merged_id])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise Customer.DoesNotExist("Customer not found.")
        survivor, merged = locked[survivor_id], locked[merged_id]
        for customer in (merged, survivor):
            if customer.status == Customer.Status.MERGED:
                raise _refuse(
                    _("%(name)s (#%(id)s) was already merged into customer #%(into)s.")
                    % {"name": customer.name, "id": customer.pk, "into": customer.merged_into_id},
                    "already_merged",
                )
        pair = _merged_pair(survivor_id=survivor_id, merged_id=merged_id, pair_id=pair_id)
        reason = f"Merge of customer #{merged_id} into #{survivor_id}"[:MERGE_REASON_MAX]

        moved: dict[str, dict[str, int]] = {}
        for label, preparation in _PREPARATIONS.items():
            moved[label] = preparation(survivor_id, merged_id, actor, reason)
        for relation in customer_owned_relations():
            moved[relation.label] = _relation_move(
                relation, survivor_id=survivor_id, merged_id=merged_id, actor=actor, reason=reason
            )
        moved["crm.Customer.merged_into"] = {
            "moved": Customer.objects.filter(merged_into_id=merged_id).update(
                merged_into_id=survivor_id
            )
        }
        moved["crm.DuplicatePair"] = {
            "moved": _pairs_repoint(
                survivor_id=survivor_id,
                merged_id=merged_id,
                merged_pair_id=pair.pk if pair else None,
            )
        }

        now = timezone.now()
        if pair is not None:
            pair.status = DuplicatePair.Status.MERGED
            pair.decided_by = actor
            pair.decided_at = now
            pair.save(update_fields=["status", "decided_by", "decided_at"])

        filled = [
            name
            for name in ("phone", "email", "birth_date")
            if not getattr(survivor, name) and getattr(merged, name)
        ]
        for name in filled:
            setattr(survivor, name, getattr(merged, name))
        survivor._history_user = actor  # type: ignore[attr-defined]
        survivor._change_reason = reason  # type: ignore[attr-defined]
        survivor.save(update_fields=[*filled, "updated_at"])

        merged.status = Customer.Status.MERGED
        merged.merged_into = survivor
        merged._history_user = actor  # type: ignore[attr-defined]
        merged._change_reason = reason  # type: ignore[attr-defined]
        merged.save(update_fields=["status", "merged_into", "updated_at"])

        return CustomerMerge.objects.create(
            survivor=survivor,
            merged=merged,
            pair=pair,
            moved=moved,
            merged_by=actor,
            merged_at=now,
        )


def _merged_pair(*, survivor_id: int, merged_id: int, pair_id: int | None) -> DuplicatePair | None:
    """The pair being decided: the given one (which must be open and about these two), or the
    pair of these two customers if the finder had proposed it."""
    low, high = sorted((survivor_id, merged_id))
    if pair_id is None:
        return (
            DuplicatePair.objects.select_for_update().filter(customer_id=low, other_id=high).first()
        )
    pair = DuplicatePair.objects.select_for_update().filter(pk=pair_id).first()
    if pair is None or (pair.customer_id, pair.other_id) != (low, high):
        raise _refuse(_("This pair is not about these two customers."), "wrong_pair")
    if pair.status != DuplicatePair.Status.OPEN:
        raise _refuse(
            _("This pair was already decided: %(status)s.") % {"status": pair.get_status_display()},
            "already_decided",
        )
    return pair
