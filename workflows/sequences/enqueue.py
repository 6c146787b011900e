"""A care step's messages into the outbox, one INSERT ... SELECT for a batch of enrollments.

As `workflows.outbox.enqueue.messages_enqueue_for`, with one difference that needs its own
statement: each enrollment has its own occasion,
"sequence:<sequence>:enrollment:<enrollment>:step:<order>", built in SQL. The message key is
the outbox's (`message_key`), so a re-run of a step adds nothing. Call tasks go to the
customer's RM.

A step with a feedback form first gets each enrollment a personal link, a FeedbackInvitation
whose occasion is the step message's (one more INSERT ... SELECT); the outbox writes the link
into the message when it sends it (workflows/feedback/invitations.py).
"""

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from crm.models import Customer
from workflows.models import CareStep, Enrollment, Message
from workflows.models.outbox import Channel
from workflows.outbox.rendering import customer_language, template_find


def step_occasion(*, sequence_id: int, enrollment_id: int, order: int) -> str:
    return f"sequence:{sequence_id}:enrollment:{enrollment_id}:step:{order}"


def step_invitations_create(step: CareStep, enrollments: QuerySet) -> int:
    """The personal links of a step with a form, one per enrollment; returns how many are new."""
    from workflows.feedback.invitations import (
        channel_check_for_link,
        form_check_sendable,
        invitations_insert,
    )

    form = step.feedback_form
    form_check_sendable(form)
    channel_check_for_link(step.channel)
    ids_sql, ids_params = enrollments.order_by().values("pk").query.sql_with_params()
    rows_sql = f"""
        SELECT e.customer_id AS customer_id, (%s || CAST(e.id AS TEXT) || %s) AS occasion
        FROM {Enrollment._meta.db_table} AS e WHERE e.id IN ({ids_sql})
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params = [f"sequence:{step.sequence_id}:enrollment:", f":step:{step.order}", *ids_params]
    return invitations_insert(form=form, rows_sql=rows_sql, rows_params=params, now=timezone.now())


def step_messages_enqueue(step: CareStep, enrollments: QuerySet) -> int:
    """Queue the step's message for each of `enrollments`; returns the number added."""
    template = template_find(
        code=step.template_code, channel=step.channel, language=customer_language(None)
    )
    ids_sql, ids_params = enrollments.order_by().values("pk").query.sql_with_params()
    occasion_head = f"sequence:{step.sequence_id}:enrollment:"
    occasion_tail = f":step:{step.order}"
    # The key as message_key() writes it (a test holds them equal).
    occasion = "(%s || CAST(e.id AS TEXT) || %s)"
    assignee = "c.owner_id" if step.channel == Channel.CALL else "NULL"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = f"""
        INSERT INTO {Message._meta.db_table} ("key", customer_id, channel, purpose, offer_kind,
            occasion, template_id, language, subject, body, recipient, state, refusal,
            not_before, expires_at, attempts, provider_id, error, assigned_to_id,
            created_by_id, created_at)
        SELECT %s || CAST(e.customer_id AS TEXT) || ':' || {occasion} || %s, e.customer_id,
            %s, %s, %s, {occasion}, %s, %s, '', '', '', 'queued', '', %s, NULL, 0, '', '',
            {assignee}, NULL, %s
        FROM {Enrollment._meta.db_table} AS e
        JOIN {Customer._meta.db_table} AS c ON c.id = e.customer_id
        WHERE e.id IN ({ids_sql})
        ON CONFLICT ("key") DO NOTHING
    """  # noqa: S608 (identifiers from the models, values as parameters)
    params = [
        f"{step.purpose}:",
        occasion_head,
        occasion_tail,
        f":{step.channel}",
        step.channel,
        step.purpose,
        step.offer_kind,
        occasion_head,
        occasion_tail,
        template.pk,
        template.language,
        now,
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids_params])
        return cursor.rowcount
