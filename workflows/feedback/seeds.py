"""The feedback messages' templates: "your suggestion led to ..." (SMS and e-mail, English and
Simplified Chinese). Idempotent: run it again and nothing changes; a template a supervisor has
edited since is left as it is."""

from django.db import transaction

from workflows.feedback.seeds_sending import TEMPLATES as SENDING_TEMPLATES
from workflows.feedback.suggestions import TEMPLATE_CODE
from workflows.models import MessageTemplate
from workflows.models.outbox import Channel, Purpose

TEMPLATES = [
    # (code, channel, language, subject, body)
    (
        TEMPLATE_CODE,
        Channel.SMS,
        "en",
        "",
        "{{ customer.name }}, thank you! Your suggestion led to: {{ what_changed }}. "
        "Bonus points are on your account.",
    ),
    (
        TEMPLATE_CODE,
        Channel.SMS,
        "zh-hans",
        "",
        "{{ customer.name }}，感谢您的建议！我们已采纳：{{ what_changed }}。"
        "奖励积分已存入您的账户。",
    ),
    (
        TEMPLATE_CODE,
        Channel.EMAIL,
        "en",
        "Your suggestion made a difference",
        "Dear {{ customer.name }},\n\nthank you for your feedback. Your suggestion led to: "
        "{{ what_changed }}.\n\nAs a thank-you, bonus points are on your account.",
    ),
    (
        TEMPLATE_CODE,
        Channel.EMAIL,
        "zh-hans",
        "您的建议已被采纳",
        "{{ customer.name }}，您好！\n\n感谢您的反馈。您的建议已被采纳：{{ what_changed }}。"
        "\n\n奖励积分已存入您的账户，以示感谢。",
    ),
]


@transaction.atomic
def feedback_templates_seed() -> int:
    """Create the feedback templates that are missing (these, and the links' and reminders'
    of seeds_sending.py); the number created."""
    created = 0
    for code, channel, language, subject, body in [*TEMPLATES, *SENDING_TEMPLATES]:
        _template, was_created = MessageTemplate.objects.get_or_create(
            code=code,
            channel=channel,
            language=language,
            defaults={"subject": subject, "body": body, "purpose": Purpose.SERVICE},
        )
        created += was_created
    return created
