"""Call tasks: the RM marks a call done, once."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from crm.selectors import customer_visibility_q
from workflows.models import Message
from workflows.selectors import call_tasks_open_q


@transaction.atomic
def call_tasks_complete(*, actor: Any, message_ids: list[int]) -> int:
    """Mark the actor's open call tasks among these done; the number marked.

    One guarded UPDATE (completed_at IS NULL): a task done twice, or by two people at once,
    keeps its first moment; another RM's task, or a message that is no call, is left alone.
    """
    return (
        Message.objects.filter(pk__in=message_ids)
        .filter(customer_visibility_q(actor, prefix="customer__"))
        .filter(call_tasks_open_q(actor))
        .update(completed_at=timezone.now())
    )
