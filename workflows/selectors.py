"""Reads of the outbox for admin: refusals by reason and channel, call tasks."""

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from crm.selectors import (
    User,
    customer_visibility_q,
    user_can_see_all_customers,
    user_supervised_team_ids,
)
from workflows.models import Message
from workflows.models.outbox import Channel


def user_supervises(user: User) -> bool:
    return user_can_see_all_customers(user) or bool(user_supervised_team_ids(user))


def refusals_by_reason(*, user: User, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Refused messages of the customers the user sees, [start, end), counted per reason and
    channel: one GROUP BY over the (state, refusal) index."""
    rows = (
        Message.objects.filter(
            customer_visibility_q(user, prefix="customer__"),
            state=Message.State.REFUSED,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("refusal", "channel")
        .annotate(count=Count("id"))
        .order_by("refusal", "channel")
    )
    return [dict(row) for row in rows]


def call_tasks_open_q(user: User) -> Q:
    """Open call tasks: an RM's own; a supervisor's are every one in their visible scope.

    A task is open from its moment (`not_before`) until it is done, unless the outbox refused
    it or it failed; the partial index (assigned_to, not_before) serves an RM's list.
    """
    open_tasks = Q(
        channel=Channel.CALL, completed_at__isnull=True, not_before__lte=timezone.now()
    ) & ~Q(state__in=[Message.State.REFUSED, Message.State.FAILED])
    if user_supervises(user):
        return open_tasks
    return open_tasks & Q(assigned_to=user)


def call_tasks_open(*, user: User) -> QuerySet[Message]:
    return Message.objects.filter(customer_visibility_q(user, prefix="customer__")).filter(
        call_tasks_open_q(user)
    )
