"""Putting messages into the outbox. Nothing is sent here: the beat dispatcher (every minute,
workflows/tasks.py) takes due messages, applies the rules at that moment and sends at most
once. Long waits are `not_before` deadlines in the database, never task countdowns."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer
from workflows.models import Message
from workflows.models.outbox import Channel, OfferKind, Purpose
from workflows.outbox.rendering import customer_language, render, template_find


def message_key(*, purpose: str, customer_id: int, occasion: str, channel: str) -> str:
    """One message per (purpose, customer, occasion, channel)."""
    return f"{purpose}:{customer_id}:{occasion}:{channel}"


def _validate(*, channel: str, purpose: str, offer_kind: str, occasion: str) -> None:
    if channel not in Channel.values:
        raise ValidationError(_("Unknown channel: %(value)s.") % {"value": channel})
    if purpose not in Purpose.values:
        raise ValidationError(_("Unknown purpose: %(value)s.") % {"value": purpose})
    if offer_kind not in OfferKind.values:
        raise ValidationError(_("Unknown offer: %(value)s.") % {"value": offer_kind})
    if not occasion:
        raise ValidationError(_("A message needs an occasion."))


@transaction.atomic
def message_enqueue(
    *,
    customer: Customer,
    channel: str,
    purpose: str,
    occasion: str,
    template_code: str | None = None,
    context: dict | None = None,
    subject: str = "",
    body: str = "",
    offer_kind: str = OfferKind.NONE,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    created_by=None,
    assigned_to=None,
) -> Message:
    """Queue one message, rendered now from a template (or the given subject and body).
    Enqueueing the same occasion again returns the first message, unchanged."""
    _validate(channel=channel, purpose=purpose, offer_kind=offer_kind, occasion=occasion)
    key = message_key(purpose=purpose, customer_id=customer.pk, occasion=occasion, channel=channel)
    existing = Message.objects.filter(key=key).first()
    if existing is not None:
        return existing
    template = None
    language = ""
    if template_code:
        template = template_find(
            code=template_code, channel=channel, language=customer_language(customer)
        )
        rendered = render(template, customer=customer, context=context)
        language, subject, body = rendered.language, rendered.subject, rendered.body
    elif not body:
        raise ValidationError(_("A message needs a template or a body."))
    message = Message(
        key=key,
        customer=customer,
        channel=channel,
        purpose=purpose,
        offer_kind=offer_kind,
        occasion=occasion,
        template=template,
        language=language,
        subject=subject[:200],
        body=body,
        not_before=not_before or timezone.now(),
        expires_at=expires_at,
        created_by=created_by,
        assigned_to=assigned_to,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        # Enqueued concurrently by someone else: theirs is the message.
        first = Message.objects.filter(key=key).first()
        if first is None:
            raise
        return first
    return message


def messages_enqueue_for(
    customers: QuerySet | list[int],
    *,
    channel: str,
    purpose: str,
    occasion: str,
    template_code: str,
    offer_kind: str = OfferKind.NONE,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
    created_by=None,
) -> int:
    """Queue one message per customer in one INSERT ... SELECT ... ON CONFLICT DO NOTHING
    (campaigns, sequences); customers already queued for the occasion are skipped. The text
    is rendered when the message is sent (dispatch), from the template chosen here. Returns
    the number of messages added."""
    _validate(channel=channel, purpose=purpose, offer_kind=offer_kind, occasion=occasion)
    template = template_find(code=template_code, channel=channel, language=customer_language(None))
    if not isinstance(customers, QuerySet):
        customers = Customer.objects.filter(pk__in=list(customers))
    ids_sql, ids_params = customers.order_by().values("pk").query.sql_with_params()
    now = timezone.now()
    table = Message._meta.db_table
    prefix = f"{purpose}:"
    suffix = f":{occasion}:{channel}"
    # The WHERE also lets SQLite tell the upsert's ON CONFLICT from a join's ON.
    sql = f"""
        INSERT INTO {table} ("key", customer_id, channel, purpose, offer_kind, occasion,
            template_id, language, subject, body, recipient, state, refusal, not_before,
            expires_at, attempts, provider_id, error, created_by_id, created_at)
        SELECT %s || CAST(c.id AS TEXT) || %s, c.id, %s, %s, %s, %s,
            %s, %s, '', '', '', 'queued', '', %s, %s, 0, '', '', %s, %s
        FROM {Customer._meta.db_table} AS c
        WHERE c.id IN ({ids_sql})
        ON CONFLICT ("key") DO NOTHING
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params = [
        prefix,
        suffix,
        channel,
        purpose,
        offer_kind,
        occasion,
        template.pk,
        template.language,
        connection.ops.adapt_datetimefield_value(not_before or now),
        connection.ops.adapt_datetimefield_value(expires_at),
        getattr(created_by, "pk", None),
        connection.ops.adapt_datetimefield_value(now),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids_params])
        return cursor.rowcount
