"""Reminders, once: an invitation not answered WORKFLOWS_FEEDBACK_REMINDER_DAYS after it was
made, and not expired, gets one reminder message (template "feedback_reminder") on the channel
its link went out on, with the same link.

Per batch: the due invitations (the partial index feedback_invitation_remind holds exactly the
unanswered, unreminded ones), a guarded UPDATE that sets `reminded_at` and returns the ids it
changed (two runs at once split them), and one INSERT ... SELECT of their reminders whose
outbox key is unique per invitation. `reminded_at` is never emptied, so there is never a
second reminder.

An invitation whose link never reached the customer (its first message refused or failed)
gets no reminder; it is marked all the same so it leaves the index. One whose link went out on
a channel with no active reminder template is left for later (and logged): it is reminded once
a template exists, if it has not expired by then.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from workflows.feedback.invitations import FIRST, REMINDER
from workflows.models import FeedbackInvitation, Message, MessageTemplate
from workflows.models.outbox import OfferKind
from workflows.outbox.rendering import customer_language

logger = logging.getLogger(__name__)
TEMPLATE_CODE = "feedback_reminder"
BATCH = 2000


def _templates() -> dict[str, MessageTemplate]:
    """The reminder's template per channel, in the default language if there is one."""
    language = customer_language(None)
    templates: dict[str, MessageTemplate] = {}
    for template in MessageTemplate.objects.filter(code=TEMPLATE_CODE, is_active=True).order_by(
        "channel", "language"
    ):
        if template.channel not in templates or template.language == language:
            templates[template.channel] = template
    return templates


def _first_messages_sent():
    """The invitation's first message, sent: a care step's message has the invitation's
    occasion, any other "feedback:<form>:<invitation occasion>" (see invitations.py)."""
    return Message.objects.filter(
        customer_id=OuterRef("customer_id"), state=Message.State.SENT
    ).filter(
        Q(
            occasion=Concat(
                Value(f"{FIRST}:"),
                Cast(OuterRef("form_id"), CharField()),
                Value(":"),
                OuterRef("occasion"),
                output_field=CharField(),
            )
        )
        | Q(occasion=OuterRef("occasion"), occasion__startswith="sequence:")
    )


def _unreminded(now: datetime):
    cutoff = now - timedelta(days=settings.WORKFLOWS_FEEDBACK_REMINDER_DAYS)
    return FeedbackInvitation.objects.filter(
        answered_at__isnull=True,
        reminded_at__isnull=True,
        created_at__lte=cutoff,
        expires_at__gt=now,
    )


def _due(*, now: datetime, channels: list[str]):
    sent_without_template = _first_messages_sent().exclude(channel__in=channels)
    return _unreminded(now).exclude(Exists(sent_without_template))


def _claim(ids: list[int], *, now: datetime) -> list[int]:
    """Sets reminded_at on those still unanswered and unreminded; the ids it changed."""
    if not ids:
        return []
    table = FeedbackInvitation._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        f"UPDATE {table} SET reminded_at = %s WHERE id IN ({marks}) "  # noqa: S608
        "AND reminded_at IS NULL AND answered_at IS NULL RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), *ids])
        return [row[0] for row in cursor.fetchall()]


def _reminders_enqueue(ids: list[int], *, templates: dict[str, MessageTemplate], now) -> int:
    """One reminder per claimed invitation whose first message was sent: same customer,
    channel and purpose; key and occasion from the invitation, so it is queued once."""
    channels = list(templates)
    cases = " ".join(["WHEN %s THEN %s"] * len(channels))
    first = f"'{FIRST}:' || CAST(i.form_id AS TEXT) || ':' || i.occasion"
    occasion = f"'{REMINDER}:' || CAST(i.form_id AS TEXT) || ':' || i.occasion"
    id_marks = ", ".join(["%s"] * len(ids))
    channel_marks = ", ".join(["%s"] * len(channels))
    table = Message._meta.db_table
    # The key as message_key() writes it: purpose:customer:occasion:channel.
    sql = f"""
        INSERT INTO {table} ("key", customer_id, channel, purpose, offer_kind, occasion,
            template_id, language, subject, body, recipient, state, refusal, not_before,
            expires_at, attempts, provider_id, error, created_by_id, created_at)
        SELECT m.purpose || ':' || CAST(i.customer_id AS TEXT) || ':' || {occasion} || ':'
                || m.channel,
            i.customer_id, m.channel, m.purpose, %s, {occasion},
            CASE m.channel {cases} END, CASE m.channel {cases} END,
            '', '', '', 'queued', '', %s, i.expires_at, 0, '', '', NULL, %s
        FROM {FeedbackInvitation._meta.db_table} AS i
        JOIN {table} AS m ON m.customer_id = i.customer_id
            AND (m.occasion = {first} OR (m.occasion = i.occasion AND i.occasion LIKE %s))
        WHERE i.id IN ({id_marks}) AND m.state = %s AND m.channel IN ({channel_marks})
        ON CONFLICT ("key") DO NOTHING
    """  # noqa: S608 (identifiers from the models, values as parameters)
    db_now = connection.ops.adapt_datetimefield_value(now)
    params = [
        OfferKind.NONE,
        *[value for channel in channels for value in (channel, templates[channel].pk)],
        *[value for channel in channels for value in (channel, templates[channel].language)],
        db_now,
        db_now,
        "sequence:%",
        *ids,
        Message.State.SENT,
        *channels,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def _remind_batch(*, now: datetime, templates, batch: int) -> tuple[int, int]:
    ids = list(
        _due(now=now, channels=list(templates))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:batch]
    )
    claimed = _claim(ids, now=now)
    enqueued = _reminders_enqueue(claimed, templates=templates, now=now) if claimed else 0
    return len(ids), enqueued


def invitations_remind(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """What the hourly beat task runs: the due reminders into the outbox, in batches; returns
    how many were queued."""
    now = now or timezone.now()
    templates = _templates()
    if not templates:
        logger.warning("feedback reminders: no active %r template, none sent", TEMPLATE_CODE)
        return 0
    total = 0
    while True:
        taken, enqueued = _remind_batch(now=now, templates=templates, batch=batch)
        total += enqueued
        if taken < batch:
            break
    waiting = (
        _unreminded(now)
        .filter(Exists(_first_messages_sent().exclude(channel__in=list(templates))))
        .exists()
    )
    if waiting:
        logger.warning(
            "feedback reminders: links sent on a channel without a %r template wait", TEMPLATE_CODE
        )
    return total
