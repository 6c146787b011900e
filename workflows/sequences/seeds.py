"""The issue's example sequence: a purchase in "mother_and_baby" -> day 0 e-mail with a how-to
video, day 2 SMS tips, day 7 a call task for the RM; it stops when a ticket is opened or the
customer withdraws marketing consent. Idempotent: run it again and nothing changes."""

from django.db import transaction

from workflows.models import CareSequence, CareStep, MessageTemplate
from workflows.models.outbox import Channel, Purpose
from workflows.models.sequences import TriggerKind

NAME = "Mother and baby: first weeks"
TEMPLATES = [
    # (code, channel, language, subject, body)
    (
        "baby-howto",
        Channel.EMAIL,
        "en",
        "Your first days with {{ customer.name }}'s new gear",
        "Dear {{ customer.name }}, a short how-to video: https://example.com/videos/baby-care",
    ),
    (
        "baby-howto",
        Channel.EMAIL,
        "zh-hans",
        "新手爸妈使用指南",
        "{{ customer.name }}，您好！使用视频：https://example.com/videos/baby-care",
    ),
    (
        "baby-tips",
        Channel.SMS,
        "en",
        "",
        "{{ customer.name }}, three tips for the first week: sleep, feeding, bathing. "
        "Reply TD to stop.",
    ),
    (
        "baby-tips",
        Channel.SMS,
        "zh-hans",
        "",
        "{{ customer.name }}，新生儿第一周三个小贴士：睡眠、喂养、洗澡。回复TD退订",
    ),
    (
        "baby-call",
        Channel.CALL,
        "en",
        "Follow-up call",
        "Call {{ customer.name }}: how are the first days with the baby going?",
    ),
    (
        "baby-call",
        Channel.CALL,
        "zh-hans",
        "回访电话",
        "致电{{ customer.name }}：宝宝出生后的头几天还顺利吗？",
    ),
]
STEPS = [
    (1, 0, Channel.EMAIL, "baby-howto"),
    (2, 2, Channel.SMS, "baby-tips"),
    (3, 7, Channel.CALL, "baby-call"),
]


@transaction.atomic
def seed_sequences() -> CareSequence:
    for code, channel, language, subject, body in TEMPLATES:
        MessageTemplate.objects.update_or_create(
            code=code,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body, "purpose": Purpose.MARKETING},
        )
    sequence, _created = CareSequence.objects.update_or_create(
        name=NAME,
        defaults={
            "trigger": TriggerKind.PURCHASE_IN_CATEGORY,
            "parameters": {"category": "mother_and_baby"},
            "exit_on_ticket": True,
            "exit_on_opt_out": True,
        },
    )
    for order, day, channel, code in STEPS:
        purpose = Purpose.SERVICE if channel == Channel.CALL else Purpose.MARKETING
        CareStep.objects.update_or_create(
            sequence=sequence,
            order=order,
            defaults={
                "delay_days": day,
                "channel": channel,
                "template_code": code,
                "purpose": purpose,
            },
        )
    return sequence
