"""Triggers: which customers enter a care sequence, and for what occasion.

Each trigger kind is a queryset of (cid, occ) rows over all customers; `sequence_enrol` wraps
it in one INSERT ... SELECT ... ON CONFLICT DO NOTHING, so a customer is in a sequence once per
occasion however often a trigger runs (the beat every hour, and receivers as events happen).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from crm.models import Customer, Transaction
from loyalty.models import MembershipChange
from loyalty.segments import points_expiring_customer_ids
from workflows.models import CareSequence, CareStep, Enrollment, Ticket
from workflows.models.sequences import TriggerKind

# Event triggers look this far back: the beat runs hourly, so a missed run is caught up.
WINDOW = timedelta(days=1)
_TIER_KINDS = {
    "up": [MembershipChange.Kind.UPGRADE],
    "down": [MembershipChange.Kind.DOWNGRADE, MembershipChange.Kind.CREDIT_EVENT],
}
_TIER_KINDS["any"] = _TIER_KINDS["up"] + _TIER_KINDS["down"]


def _by_id(queryset: QuerySet) -> QuerySet:
    """Rows whose occasion is their own id (a transaction, a membership change)."""
    return queryset.order_by().values(cid=F("customer_id"), occ=Cast("pk", CharField()))


def _customers(queryset: QuerySet, occasion: str) -> QuerySet:
    return queryset.order_by().values(cid=F("pk"), occ=Value(occasion, output_field=CharField()))


def _purchase(params: dict, now: datetime, ids) -> QuerySet:
    rows = Transaction.objects.filter(
        kind=Transaction.Kind.PURCHASE,
        category=params["category"],
        occurred_at__gt=now - WINDOW,
        occurred_at__lte=now,
    )
    return _by_id(rows if ids is None else rows.filter(pk__in=ids))


def _large_transfer(params: dict, now: datetime, ids) -> QuerySet:
    rows = Transaction.objects.filter(
        kind=Transaction.Kind.TRANSFER_OUT,
        amount__gte=Decimal(str(params["min_amount"])),
        occurred_at__gt=now - WINDOW,
        occurred_at__lte=now,
    )
    return _by_id(rows if ids is None else rows.filter(pk__in=ids))


def _tier_changed(params: dict, now: datetime, ids) -> QuerySet:
    rows = MembershipChange.objects.filter(
        kind__in=_TIER_KINDS[params.get("direction", "any")], created_at__gt=now - WINDOW
    )
    return _by_id(rows if ids is None else rows.filter(pk__in=ids))


def _birthday(params: dict, now: datetime, ids) -> QuerySet:
    today = timezone.localdate(now)
    born = Customer.objects.filter(birth_date__month=today.month, birth_date__day=today.day)
    return _customers(born, str(today.year))


def _new_customer(params: dict, now: datetime, ids) -> QuerySet:
    return _customers(Customer.objects.filter(created_at__gt=now - WINDOW), "new")


def _spend_surge(params: dict, now: datetime, ids) -> QuerySet:
    """Spend in the category over the last 30 days >= ratio x the 30 days before (3: +200%)."""
    ratio = Decimal(str(params.get("ratio", 3)))
    money = DecimalField(max_digits=20, decimal_places=2)
    split = now - timedelta(days=30)
    zero = Value(Decimal(0), output_field=money)
    surged = (
        Transaction.objects.filter(
            kind=Transaction.Kind.PURCHASE,
            category=params["category"],
            occurred_at__gt=now - timedelta(days=60),
            occurred_at__lte=now,
        )
        .order_by()
        .values("customer_id")
        .annotate(
            recent=Sum(
                Case(When(occurred_at__gt=split, then="amount"), default=zero, output_field=money)
            ),
            prior=Sum(
                Case(When(occurred_at__lte=split, then="amount"), default=zero, output_field=money)
            ),
        )
        .filter(prior__gt=0, recent__gte=F("prior") * Value(ratio, output_field=money))
        .values("customer_id")
    )
    year, week, _day = timezone.localdate(now).isocalendar()
    return _customers(Customer.objects.filter(pk__in=surged), f"{year}-W{week:02d}")


def _points_expiring(params: dict, now: datetime, ids) -> QuerySet:
    today = timezone.localdate(now)
    until = today + timedelta(days=params.get("days", 30))
    expiring = Customer.objects.filter(pk__in=points_expiring_customer_ids(until=until))
    return _customers(expiring, f"{today.year}-{today.month:02d}")


def _ticket_resolved(params: dict, now: datetime, ids) -> QuerySet:
    """Tickets resolved lately, occasion "ticket:<id>": a ticket resolved again after a reopen
    enrols nobody twice."""
    rows = Ticket.objects.filter(resolved_at__gt=now - WINDOW, resolved_at__lte=now)
    rows = rows if ids is None else rows.filter(pk__in=ids)
    return rows.order_by().values(
        cid=F("customer_id"),
        occ=Concat(Value("ticket:"), Cast("pk", CharField()), output_field=CharField()),
    )


TRIGGERS = {
    TriggerKind.PURCHASE_IN_CATEGORY: _purchase,
    TriggerKind.LARGE_TRANSFER: _large_transfer,
    TriggerKind.TIER_CHANGED: _tier_changed,
    TriggerKind.BIRTHDAY: _birthday,
    TriggerKind.NEW_CUSTOMER: _new_customer,
    TriggerKind.SPEND_SURGE: _spend_surge,
    TriggerKind.POINTS_EXPIRING: _points_expiring,
    TriggerKind.TICKET_RESOLVED: _ticket_resolved,
}


@transaction.atomic
def sequence_enrol(
    sequence: CareSequence, *, now: datetime | None = None, ids=None, first: CareStep | None = None
) -> int:
    """Enrol everyone the sequence's trigger finds (only among `ids`, the rows an event just
    wrote, when given) in one statement. Returns the number of new enrollments."""
    now = now or timezone.now()
    first = first or sequence.steps.order_by("order").first()
    if first is None:
        return 0  # nothing to send yet: enrol once there are steps
    rows_sql, rows_params = TRIGGERS[sequence.trigger](
        sequence.parameters, now, ids
    ).query.sql_with_params()
    table = Enrollment._meta.db_table
    # "WHERE 1 = 1" lets SQLite tell the upsert's ON CONFLICT from a join's ON.
    sql = f"""
        INSERT INTO {table} (sequence_id, customer_id, occasion, enrolled_at, state,
            exit_reason, next_step, next_due_at)
        SELECT %s, s.cid, s.occ, %s, 'active', '', %s, %s
        FROM ({rows_sql}) AS s
        WHERE 1 = 1
        ON CONFLICT (sequence_id, customer_id, occasion) DO NOTHING
    """  # noqa: S608 (identifiers from the model, values as parameters)
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        sequence.pk,
        adapt(now),
        first.order,
        adapt(now + timedelta(days=first.delay_days)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *rows_params])
        return cursor.rowcount


def sequences_enrol(*, now: datetime | None = None, triggers=None, ids=None) -> dict[int, int]:
    """Run every active sequence's trigger (or those of `triggers`): one statement each."""
    now = now or timezone.now()
    sequences = CareSequence.objects.filter(is_active=True)
    if triggers is not None:
        sequences = sequences.filter(trigger__in=triggers)
    firsts: dict[int, CareStep] = {}
    for step in CareStep.objects.filter(sequence__in=sequences).order_by("sequence_id", "-order"):
        firsts[step.sequence_id] = step
    return {
        sequence.pk: sequence_enrol(sequence, now=now, ids=ids, first=firsts[sequence.pk])
        for sequence in sequences
        if sequence.pk in firsts
    }
