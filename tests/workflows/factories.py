from itertools import count

from django.utils import timezone

from workflows.models import Message
from workflows.models.outbox import Channel, Purpose

_keys = count(1)


def message(customer, **fields) -> Message:
    n = next(_keys)
    defaults = {
        "key": f"test:{customer.pk}:{n}",
        "channel": Channel.SMS,
        "purpose": Purpose.MARKETING,
        "occasion": f"test:{n}",
        "recipient": str(customer.phone),
        "created_at": timezone.now(),
    }
    return Message.objects.create(customer=customer, **{**defaults, **fields})


def refused(customer, reason=Message.Refusal.NO_CONSENT, **fields) -> Message:
    return message(customer, state=Message.State.REFUSED, refusal=reason, **fields)


def call_task(customer, assigned_to, **fields) -> Message:
    return message(
        customer,
        channel=Channel.CALL,
        purpose=Purpose.SERVICE,
        state=Message.State.SENT,
        assigned_to=assigned_to,
        recipient="",
        **fields,
    )
