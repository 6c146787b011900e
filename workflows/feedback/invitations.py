"""Personal links in messages: creating invitations (set-based, or one for one customer) and
giving their messages the link when they are written.

Occasions. An invitation's occasion says what it asks about: "sending:<sending>" (a form sent
to a segment), "sequence:<sequence>:enrollment:<enrollment>:step:<order>" (a care step with a
form), or the caller's (e.g. "ticket:55"). The message carrying the link has the occasion

    feedback:<form>:<invitation occasion>             the first message
    feedback-reminder:<form>:<invitation occasion>    the reminder (workflows/feedback/reminders.py)

except a care step's message, which keeps the step's own occasion (the sequence's results count
its messages by it): there the invitation's occasion is the message's. Either way the message's
customer and occasion name its invitation, so the outbox finds all the links of a dispatch
batch in one query (`_feedback_contexts`, `_step_contexts`); a message whose invitation is gone
fails instead of going out with a dead link.

The text gets {{ feedback_link }}, {{ feedback_form }} (the form's title in the message's
language) and {{ link_expires_on }} (YYYY-MM-DD).
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer
from workflows.feedback import links
from workflows.feedback.versions import localized
from workflows.models import CareStep, FeedbackForm, FeedbackInvitation, Message
from workflows.models.outbox import Channel, Purpose
from workflows.outbox.enqueue import message_enqueue
from workflows.outbox.rendering import (
    ContextMissing,
    customer_language,
    message_context_register,
    template_find,
)

FIRST = "feedback"
REMINDER = "feedback-reminder"
_FEEDBACK_OCCASION = re.compile(rf"^(?:{FIRST}|{REMINDER}):(\d+):(.+)$")
_STEP_OCCASION = re.compile(r"^sequence:(\d+):enrollment:\d+:step:(\d+)$")


def invitation_message_occasion(*, form_id: int, occasion: str, reminder: bool = False) -> str:
    return f"{REMINDER if reminder else FIRST}:{form_id}:{occasion}"


def form_check_sendable(form: FeedbackForm) -> None:
    """A form goes out only active and published (customers answer its current version)."""
    if not form.is_active:
        raise ValidationError(
            _("The form %(form)s is not active.") % {"form": form}, code="form_inactive"
        )
    if form.current_version_id is None:
        raise ValidationError(
            _("The form %(form)s is not published yet.") % {"form": form},
            code="form_unpublished",
        )


def channel_check_for_link(channel: str) -> None:
    if channel == Channel.CALL:
        raise ValidationError(
            _("A call task cannot carry a personal link: choose a message channel."),
            code="call_channel",
        )


def invitation_context(invitation: FeedbackInvitation, *, language: str) -> dict:
    """What a message's text gets about its invitation (see the module's docstring)."""
    form = invitation.form
    version = form.current_version
    titles = version.title if version else {"en": form.title_en, "zh-hans": form.title_zh_hans}
    return {
        "feedback_link": links.invitation_url(
            form_slug=form.slug, invitation_id=invitation.pk, language=language
        ),
        "feedback_form": localized(titles, language),
        "link_expires_on": timezone.localdate(invitation.expires_at).isoformat(),
    }


def _invitations_by(messages: list[Message], wanted: dict[int, tuple[int, str]]):
    """{(form, customer, occasion): invitation} for the wanted {message id: (form, occasion)},
    in one query (the unique (form, customer, occasion) index)."""
    if not wanted:
        return {}
    customers = {m.customer_id for m in messages if m.pk in wanted}
    invitations = FeedbackInvitation.objects.filter(
        form_id__in={form_id for form_id, _occasion in wanted.values()},
        customer_id__in=customers,
        occasion__in={occasion for _form_id, occasion in wanted.values()},
    ).select_related("form__current_version")
    return {(i.form_id, i.customer_id, i.occasion): i for i in invitations}


def _contexts(messages: list[Message], wanted: dict[int, tuple[int, str]]) -> dict:
    found = _invitations_by(messages, wanted)
    contexts: dict[int, dict | ContextMissing] = {}
    for message in messages:
        if message.pk not in wanted:
            continue
        form_id, occasion = wanted[message.pk]
        invitation = found.get((form_id, message.customer_id, occasion))
        if invitation is None:
            contexts[message.pk] = ContextMissing(
                f"feedback invitation not found (form {form_id}, occasion {occasion})"
            )
        else:
            language = message.language or settings.LANGUAGE_CODE
            contexts[message.pk] = invitation_context(invitation, language=language)
    return contexts


@message_context_register(f"{FIRST}:", f"{REMINDER}:")
def _feedback_contexts(messages: list[Message]) -> dict:
    wanted = {}
    for message in messages:
        match = _FEEDBACK_OCCASION.match(message.occasion)
        if match:
            wanted[message.pk] = (int(match[1]), match[2])
        else:
            wanted[message.pk] = (0, message.occasion)  # malformed: found nowhere, fails
    return _contexts(messages, wanted)


@message_context_register("sequence:")
def _step_contexts(messages: list[Message]) -> dict:
    """Care step messages: only the steps with a form carry a link (one query for the
    steps, one for the invitations)."""
    steps = {}
    for message in messages:
        match = _STEP_OCCASION.match(message.occasion)
        if match:
            steps[message.pk] = (int(match[1]), int(match[2]))
    if not steps:
        return {}
    forms = {
        (sequence_id, order): form_id
        for sequence_id, order, form_id in CareStep.objects.filter(
            sequence_id__in={sequence_id for sequence_id, _order in steps.values()},
            feedback_form__isnull=False,
        ).values_list("sequence_id", "order", "feedback_form_id")
    }
    wanted = {
        message_id: (forms[step], message.occasion)
        for message in messages
        if (message_id := message.pk) in steps and (step := steps[message_id]) in forms
    }
    return _contexts(messages, wanted)


def link_expiry(form: FeedbackForm, *, now: datetime) -> datetime:
    return now + timedelta(days=form.link_valid_days)


def invitations_insert(
    *,
    form: FeedbackForm,
    rows_sql: str,
    rows_params: list,
    now: datetime,
) -> int:
    """INSERT ... SELECT ... ON CONFLICT DO NOTHING of the invitations `rows_sql` selects as
    (customer_id, occasion): one statement whatever their number. Returns how many were new."""
    table = FeedbackInvitation._meta.db_table
    # The WHERE TRUE lets SQLite tell the upsert's ON CONFLICT from a join's ON.
    sql = f"""
        INSERT INTO {table} (form_id, customer_id, occasion, created_at, expires_at,
            answered_at, reminded_at)
        SELECT %s, r.customer_id, r.occasion, %s, %s, NULL, NULL
        FROM ({rows_sql}) AS r
        WHERE TRUE
        ON CONFLICT (form_id, customer_id, occasion) DO NOTHING
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params = [
        form.pk,
        connection.ops.adapt_datetimefield_value(now),
        connection.ops.adapt_datetimefield_value(link_expiry(form, now=now)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *rows_params])
        return cursor.rowcount


def invitations_create_for(
    customers: QuerySet, *, form: FeedbackForm, occasion: str, now: datetime
) -> int:
    """One invitation per customer for `occasion` (a sending), set-based."""
    ids_sql, ids_params = customers.order_by().values("pk").query.sql_with_params()
    rows_sql = (
        f"SELECT c.id AS customer_id, %s AS occasion FROM {Customer._meta.db_table} AS c "  # noqa: S608
        f"WHERE c.id IN ({ids_sql})"
    )
    return invitations_insert(
        form=form, rows_sql=rows_sql, rows_params=[occasion, *ids_params], now=now
    )


@transaction.atomic
def invitation_send(
    *, form: FeedbackForm, customer: Customer, occasion: str, channel: str, template_code: str
) -> FeedbackInvitation:
    """One customer's personal link for `occasion` (e.g. "ticket:55"), sent once: the
    invitation is unique per (form, customer, occasion) and its message per occasion in the
    outbox, so calling it again returns the same invitation and sends nothing more."""
    form_check_sendable(form)
    channel_check_for_link(channel)
    if not occasion:
        raise ValidationError(_("An invitation needs an occasion."), code="no_occasion")
    template = template_find(
        code=template_code, channel=channel, language=customer_language(customer)
    )
    now = timezone.now()
    invitation, _created = FeedbackInvitation.objects.get_or_create(
        form=form,
        customer=customer,
        occasion=occasion,
        defaults={"created_at": now, "expires_at": link_expiry(form, now=now)},
    )
    message_enqueue(
        customer=customer,
        channel=channel,
        purpose=Purpose.SERVICE,
        occasion=invitation_message_occasion(form_id=form.pk, occasion=occasion),
        template_code=template_code,
        context=invitation_context(invitation, language=template.language),
        expires_at=invitation.expires_at,
    )
    return invitation
