"""Finding likely duplicate customers, and supervisors' "not a duplicate" decisions.

Never all pairs: candidates come in blocks that SQL groups (customers sharing a mobile number,
an e-mail, or a birth date), streamed in chunks in block order; names are compared in Python
(rapidfuzz) only within a block, and a birth-date block is split further by the first letter of
the name's pinyin (张伟, "Zhang Wei" and "Wei Zhang" all land under "z"). Pairs are upserted
set-based; a pair a supervisor decided on keeps its decision, its score and its reasons.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Count, QuerySet
from django.db.models.functions import Cast, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.duplicates.matching import (
    DEFAULT_MIN_SCORE,
    Candidate,
    name_key,
    name_similarity,
    name_similarity_needed,
    pair_score,
)
from crm.models import Customer, DuplicatePair
from crm.selectors import customer_visibility_q

logger = logging.getLogger(__name__)

# A phone or e-mail shared by more customers than this is a placeholder ("13800000000", a shop's
# own address), not anyone's own: its block is skipped, it counts as no evidence, and is logged.
DEFAULT_MAX_CONTACT_BLOCK = 50
# A birth date shared by more customers than this is a default an import filled in (1900-01-01).
DEFAULT_MAX_BIRTH_DATE_BLOCK = 5_000
# Within a birth date, at most this many names under one initial are compared pairwise.
DEFAULT_MAX_NAME_BLOCK = 1_000
STREAM_CHUNK = 10_000
UPSERT_BATCH = 1_000

Pair = tuple[int, int]


@dataclass
class DuplicateFindSummary:
    rows_read: int = 0
    comparisons: int = 0
    pairs_found: int = 0
    pairs_written: int = 0
    pairs_kept_decided: int = 0
    pairs_removed: int = 0
    blocks_skipped: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def duplicates_find(*, min_score: float | None = None) -> DuplicateFindSummary:
    """Find likely duplicate customers and store them as open pairs to review.

    Idempotent: a second run finds the same pairs and writes the same scores and reasons.
    Merged customers are left out; open pairs no longer found are removed. The number of
    queries does not depend on the number of customers: two reads of placeholder phones and
    e-mails, a count of placeholder birth dates, four streamed reads, and two statements per
    thousand pairs found (one per thousand removed).
    """
    started = time.monotonic()
    threshold = _setting("CRM_DUPLICATE_MIN_SCORE", DEFAULT_MIN_SCORE)
    threshold = threshold if min_score is None else min_score
    summary = DuplicateFindSummary()
    found: dict[Pair, tuple[float, list[dict[str, Any]]]] = {}
    # Pairs already scored (found or not) by the contact passes: the birth-date pass would only
    # compute the same score again.
    scored: set[Pair] = set()

    placeholders = _placeholders_find(summary)
    for kind in ("phone", "email"):
        for block in _contact_blocks(kind, summary, placeholders):
            _compare(block, found, scored, threshold, summary)
    # Pairs of a birth-date block that share no phone or e-mail (those were scored above) need
    # a name at least this alike: tested first, before the whole score.
    needed = name_similarity_needed(threshold)
    for block in _birth_date_blocks(summary, placeholders):
        for name_block in _name_blocks(block, summary):
            _compare(name_block, found, scored, threshold, summary, name_needed=needed)

    summary.pairs_found = len(found)
    _pairs_upsert(found, summary)
    _stale_pairs_remove(found, summary)
    summary.elapsed_s = round(time.monotonic() - started, 2)
    logger.info(
        "duplicates found: %s pairs among %s rows read, %s written, %s already decided",
        summary.pairs_found,
        summary.rows_read,
        summary.pairs_written,
        summary.pairs_kept_decided,
    )
    return summary


def _candidates() -> QuerySet[Customer]:
    """Customers that can be duplicates, with the phone as plain text (no PhoneNumber parse)."""
    return Customer.objects.exclude(status=Customer.Status.MERGED).annotate(
        phone_text=Cast("phone", CharField()), email_lower=Lower("email")
    )


_COLUMNS = ("id", "name", "phone_text", "email_lower", "birth_date")


def _stream(queryset: QuerySet, order: tuple[str, ...]) -> Iterator[tuple]:
    rows = queryset.order_by(*order, "id").values_list(*_COLUMNS)
    return rows.iterator(chunk_size=STREAM_CHUNK)


@dataclass(frozen=True)
class _Placeholders:
    """Phones and e-mails shared by too many customers to be anyone's own: not evidence."""

    phones: frozenset[str]
    emails: frozenset[str]


def _group(
    rows: Iterable[tuple],
    key_index: int,
    summary: DuplicateFindSummary,
    placeholders: _Placeholders,
) -> Iterator[list[Candidate]]:
    """Consecutive rows with the same key, as candidate lists of two or more."""
    current: object = object()
    block: list[Candidate] = []
    for row in rows:
        summary.rows_read += 1
        if row[key_index] != current:
            if len(block) > 1:
                yield block
            block = []
            current = row[key_index]
        phone, email = row[2] or "", row[3] or ""
        block.append(
            Candidate(
                id=row[0],
                name=row[1],
                phone="" if phone in placeholders.phones else phone,
                email="" if email in placeholders.emails else email,
                birth_date=row[4],
            )
        )
    if len(block) > 1:
        yield block


_CONTACT_COLUMN = {"phone": "phone_text", "email": "email_lower"}


def _contact_groups(kind: str) -> QuerySet:
    column = _CONTACT_COLUMN[kind]
    return _candidates().exclude(**{column: ""}).values(column).annotate(n=Count("id"))


def _placeholders_find(summary: DuplicateFindSummary) -> _Placeholders:
    limit = _setting("CRM_DUPLICATE_MAX_CONTACT_BLOCK", DEFAULT_MAX_CONTACT_BLOCK)
    values = {}
    for kind, column in _CONTACT_COLUMN.items():
        # Bounded: a database with more than this many placeholders has a bigger problem.
        values[kind] = frozenset(
            _contact_groups(kind).filter(n__gt=limit).values_list(column, flat=True)[:10_000]
        )
        summary.blocks_skipped[kind] = len(values[kind])
        if values[kind]:
            logger.warning(
                "duplicates: %s values of %s shared by more than %s customers are ignored",
                len(values[kind]),
                kind,
                limit,
            )
    return _Placeholders(phones=values["phone"], emails=values["email"])


def _contact_blocks(
    kind: str, summary: DuplicateFindSummary, placeholders: _Placeholders
) -> Iterator[list[Candidate]]:
    """Customers sharing a mobile number (kind "phone") or an e-mail ("email")."""
    column = _CONTACT_COLUMN[kind]
    limit = _setting("CRM_DUPLICATE_MAX_CONTACT_BLOCK", DEFAULT_MAX_CONTACT_BLOCK)
    shared = _contact_groups(kind).filter(n__gt=1, n__lte=limit).values(column)
    rows = _stream(_candidates().filter(**{f"{column}__in": shared}), (column,))
    yield from _group(rows, _COLUMNS.index(column), summary, placeholders)


def _birth_date_blocks(
    summary: DuplicateFindSummary, placeholders: _Placeholders
) -> Iterator[list[Candidate]]:
    limit = _setting("CRM_DUPLICATE_MAX_BIRTH_DATE_BLOCK", DEFAULT_MAX_BIRTH_DATE_BLOCK)
    groups = (
        Customer.objects.exclude(status=Customer.Status.MERGED)
        .filter(birth_date__isnull=False)
        .values("birth_date")
        .annotate(n=Count("id"))
    )
    shared = groups.filter(n__gt=1, n__lte=limit).values("birth_date")
    summary.blocks_skipped["birth_date"] = groups.filter(n__gt=limit).count()
    rows = _stream(_candidates().filter(birth_date__in=shared), ("birth_date",))
    yield from _group(rows, _COLUMNS.index("birth_date"), summary, placeholders)


def _name_blocks(
    block: list[Candidate], summary: DuplicateFindSummary
) -> Iterator[list[Candidate]]:
    """Customers of one birth date, split by the first letter of their name's pinyin."""
    by_initial: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in block:
        for initial in name_key(candidate.name).initials:
            by_initial[initial].append(candidate)
    limit = _setting("CRM_DUPLICATE_MAX_NAME_BLOCK", DEFAULT_MAX_NAME_BLOCK)
    for members in by_initial.values():
        if len(members) > limit:
            summary.blocks_skipped["name"] = summary.blocks_skipped.get("name", 0) + 1
            continue
        if len(members) > 1:
            yield members


def _compare(
    block: list[Candidate],
    found: dict[Pair, tuple[float, list[dict[str, Any]]]],
    scored: set[Pair],
    threshold: float,
    summary: DuplicateFindSummary,
    *,
    name_needed: float | None = None,
) -> None:
    """Score each pair of a block once. Without `name_needed` (the contact passes) every pair
    is remembered in `scored`; with it (the birth-date pass) pairs already scored are skipped
    and names less alike than `name_needed` are not scored at all."""
    for a, b in combinations(block, 2):
        pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
        if pair in scored or pair in found:
            continue
        summary.comparisons += 1
        if name_needed is None:
            scored.add(pair)
        elif name_similarity(a.name, b.name) < name_needed:
            continue
        score, reasons = pair_score(a, b)
        if score >= threshold:
            found[pair] = (score, reasons)


def _pairs_upsert(
    found: dict[Pair, tuple[float, list[dict[str, Any]]]], summary: DuplicateFindSummary
) -> None:
    """Insert new pairs, refresh open ones; decided pairs keep their score and reasons.

    Django's upsert cannot say "DO UPDATE ... WHERE status = 'open'", so the decided pairs of
    each batch are read first and left out of it (a decision made in between only gets this
    run's score and reasons; its status is never touched).
    """
    pairs = sorted(found)
    for start in range(0, len(pairs), UPSERT_BATCH):
        batch = pairs[start : start + UPSERT_BATCH]
        with transaction.atomic():
            decided = set(
                DuplicatePair.objects.filter(
                    customer_id__in={customer for customer, _other in batch},
                    other_id__in={other for _customer, other in batch},
                )
                .exclude(status=DuplicatePair.Status.OPEN)
                .values_list("customer_id", "other_id")
            )
            rows = [
                DuplicatePair(
                    customer_id=customer,
                    other_id=other,
                    score=found[(customer, other)][0],
                    reasons=found[(customer, other)][1],
                )
                for customer, other in batch
                if (customer, other) not in decided
            ]
            DuplicatePair.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["customer", "other"],
                update_fields=["score", "reasons"],
            )
        summary.pairs_written += len(rows)
        summary.pairs_kept_decided += len(batch) - len(rows)


def _stale_pairs_remove(
    found: dict[Pair, tuple[float, list[dict[str, Any]]]], summary: DuplicateFindSummary
) -> None:
    """Open pairs this run no longer finds (a phone was corrected, a customer merged) leave the
    review list; decided pairs stay as the record of the decision."""
    open_pairs = (
        DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN)
        .values_list("pk", "customer_id", "other_id")
        .iterator(chunk_size=STREAM_CHUNK)
    )
    stale = [pk for pk, customer, other in open_pairs if (customer, other) not in found]
    for start in range(0, len(stale), UPSERT_BATCH):
        DuplicatePair.objects.filter(pk__in=stale[start : start + UPSERT_BATCH]).delete()
    summary.pairs_removed = len(stale)


def _pair_for_decision(*, actor, pair_id: int) -> DuplicatePair:
    """The pair, locked, if the actor may see both customers; else DuplicatePair.DoesNotExist."""
    visible = customer_visibility_q(actor, prefix="customer__") & customer_visibility_q(
        actor, prefix="other__"
    )
    return DuplicatePair.objects.select_for_update().filter(visible).get(pk=pair_id)


@transaction.atomic
def duplicate_pair_dismiss(*, actor, pair_id: int) -> DuplicatePair:
    """Mark a pair "not a duplicate": the finder never brings it back."""
    if not actor.has_perm("crm.change_duplicatepair"):
        raise ValidationError(
            _("You may not decide on possible duplicates."), code="permission_denied"
        )
    pair = _pair_for_decision(actor=actor, pair_id=pair_id)
    if pair.status != DuplicatePair.Status.OPEN:
        raise ValidationError(
            _("This pair was already decided: %(status)s.") % {"status": pair.get_status_display()},
            code="already_decided",
        )
    pair.status = DuplicatePair.Status.NOT_DUPLICATE
    pair.decided_by = actor
    pair.decided_at = timezone.now()
    pair.save(update_fields=["status", "decided_by", "decided_at"])
    return pair
