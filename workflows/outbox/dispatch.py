"""Dispatching due messages, at most once.

Per batch, in one short transaction: take the due messages (queued or held, `not_before`
passed), apply the rules (workflows/outbox/rules.py), store refusals and holds, and claim the
sendable ones with a guarded UPDATE (queued/held -> sending) RETURNING the ids it changed.
Only what this dispatcher claimed is sent. Then, outside the transaction, each message goes
through its channel's backend and one statement records the batch as sent or failed.

A worker killed after the claim leaves its messages "sending": they are never sent again
automatically (`messages_stale_sending` reports them). On PostgreSQL the rules-and-claim step
is serialized by a transaction-level advisory lock, so two dispatchers never count the same
frequency cap apart; sending runs in parallel. SQLite serializes writing transactions anyway.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from workflows.models import Message, MessageTemplate
from workflows.models.outbox import Channel
from workflows.outbox.backends import backend_for
from workflows.outbox.rendering import ContextMissing, message_contexts, render
from workflows.outbox.rules import decide, recipient_of

DUE_STATES = (Message.State.QUEUED, Message.State.HELD)
_LOCK_ID = 7_000_001  # pg_advisory_xact_lock key of the rules-and-claim step


@dataclass
class DispatchResult:
    taken: int = 0
    sent: int = 0
    failed: int = 0
    held: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def add(self, other: "DispatchResult") -> None:
        self.taken += other.taken
        self.sent += other.sent
        self.failed += other.failed
        self.held += other.held
        for reason, count in other.refused.items():
            self.refused[reason] = self.refused.get(reason, 0) + count


def _db_time(value: datetime | None):
    """A datetime as the ORM would store it (SQLite keeps naive UTC text) for raw SQL."""
    return connection.ops.adapt_datetimefield_value(value)


def messages_claim(ids: list[int], *, now: datetime) -> list[int]:
    """queued/held -> sending for the given ids; returns the ids this call changed. Two
    dispatchers claiming the same ids split them: each id is returned to one of them."""
    if not ids:
        return []
    table = Message._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET state = %s, claimed_at = %s, attempts = attempts + 1 "  # noqa: S608
        f"WHERE id IN ({marks}) AND state IN (%s, %s) RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [Message.State.SENDING, _db_time(now), *ids, *DUE_STATES])
        return [row[0] for row in cursor.fetchall()]


def _take_and_claim(*, now: datetime, batch_size: int, result: DispatchResult) -> list[Message]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        messages = list(
            Message.objects.filter(state__in=DUE_STATES, not_before__lte=now)
            .select_related("customer", "staff_recipient")
            .order_by("not_before", "id")[:batch_size]
        )
        result.taken = len(messages)
        decisions = decide(messages, now=now, rules=not settings.WORKFLOWS_OUTBOX_RULES_OFF)
        for reason, ids in decisions.refused.items():
            result.refused[reason] = Message.objects.filter(
                pk__in=ids, state__in=DUE_STATES
            ).update(state=Message.State.REFUSED, refusal=reason)
        if decisions.held:
            result.held = Message.objects.filter(
                pk__in=decisions.held, state__in=DUE_STATES
            ).update(state=Message.State.HELD, not_before=decisions.held_until)
        claimed = set(messages_claim([m.pk for m in decisions.sendable], now=now))
    return [m for m in decisions.sendable if m.pk in claimed]


def _render_missing(messages: list[Message]) -> None:
    """Messages enqueued in bulk carry a template, not yet their text: render it now, with
    the context the registered providers give (rendering.message_context_register). A message
    whose provider says its context is missing fails here and is not sent."""
    to_render = [m for m in messages if m.template_id and not m.body]
    if not to_render:
        return
    templates = MessageTemplate.objects.in_bulk({m.template_id for m in to_render})
    contexts = message_contexts(to_render)
    for message in to_render:
        context = contexts.get(message.pk)
        if isinstance(context, ContextMissing):
            message.state = Message.State.FAILED
            message.error = f"Not written: {context}"[:2000]
            continue
        template = templates[message.template_id]
        rendered = render(template, customer=message.customer, context=context)
        message.subject, message.body = rendered.subject[:200], rendered.body
        message.language = rendered.language


def _send(messages: list[Message], result: DispatchResult) -> None:
    by_channel: dict[str, list[Message]] = defaultdict(list)
    for message in messages:
        message.recipient = recipient_of(message)
        if message.state == Message.State.FAILED:  # could not be written (_render_missing)
            continue
        if message.channel == Channel.CALL:
            # "Sent" to the RM's task list: the call itself is the RM's to make.
            message.assigned_to_id = message.assigned_to_id or message.customer.owner_id
            message.state = Message.State.SENT
        else:
            by_channel[message.channel].append(message)
    for channel, group in by_channel.items():
        with backend_for(channel) as backend:
            for message in group:
                try:
                    message.provider_id = backend.send(message, message.recipient)[:200]
                    message.state = Message.State.SENT
                except Exception as error:  # noqa: BLE001 (any provider error fails the message)
                    message.state = Message.State.FAILED
                    message.error = f"{type(error).__name__}: {error}"[:2000]
    for message in messages:
        if message.state == Message.State.SENT:
            result.sent += 1
        else:
            result.failed += 1


def _record(messages: list[Message], *, now: datetime) -> None:
    """One UPDATE ... FROM (VALUES ...) for the whole batch (PostgreSQL and SQLite >= 3.33)."""
    if not messages:
        return
    table = Message._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(messages))
    sql = f"""
        UPDATE {table} SET state = v.column2,
            sent_at = CASE WHEN v.column2 = %s THEN %s ELSE NULL END,
            provider_id = v.column3, recipient = v.column4, error = v.column5,
            subject = v.column6, body = v.column7, language = v.column8,
            assigned_to_id = CAST(v.column9 AS BIGINT)
        FROM (VALUES {rows}) AS v
        WHERE {table}.id = CAST(v.column1 AS BIGINT) AND {table}.state = %s
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params: list = [Message.State.SENT, _db_time(now)]
    for m in messages:
        params += [
            m.pk, m.state, m.provider_id, m.recipient, m.error,
            m.subject, m.body, m.language, m.assigned_to_id,
        ]  # fmt: skip
    params.append(Message.State.SENDING)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def dispatch_batch(*, batch_size: int | None = None) -> DispatchResult:
    """One batch: rules and claim, then send and record."""
    result = DispatchResult()
    now = timezone.now()
    claimed = _take_and_claim(
        now=now, batch_size=batch_size or settings.WORKFLOWS_OUTBOX_BATCH_SIZE, result=result
    )
    _render_missing(claimed)
    _send(claimed, result)
    _record(claimed, now=timezone.now())
    return result


def outbox_dispatch(*, batch_size: int | None = None, max_batches: int = 1000) -> DispatchResult:
    """Batches until nothing is due (or `max_batches`): what the beat task runs."""
    total = DispatchResult()
    for _batch in range(max_batches):
        result = dispatch_batch(batch_size=batch_size)
        total.add(result)
        if result.taken == 0:
            break
    return total


def messages_stale_sending(*, minutes: int | None = None):
    """Messages claimed long ago and still "sending": their worker died between the claim and
    the record. They may or may not have reached the customer; a person decides."""
    minutes = minutes or settings.WORKFLOWS_OUTBOX_STALE_MINUTES
    return Message.objects.filter(
        state=Message.State.SENDING, claimed_at__lt=timezone.now() - timedelta(minutes=minutes)
    )
