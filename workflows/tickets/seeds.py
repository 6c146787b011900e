"""What tickets need to run: the SLA watcher's message templates (e-mail, English and
Simplified Chinese), and when there are none yet a default business calendar and SLA policies.
Idempotent: run it again and nothing changes; what a supervisor has edited stays as it is."""

from django.db import transaction

from workflows.models import BusinessCalendar, MessageTemplate, SlaPolicy
from workflows.models.outbox import Channel, Purpose
from workflows.models.tickets import Priority
from workflows.tickets.watch import BREACH_TEMPLATE, WARNING_TEMPLATE

_LINK_EN = "\n\nOpen the ticket: {{ admin_url }}\n"
_LINK_ZH = "\n\n打开工单：{{ admin_url }}\n"

TEMPLATES = [
    # (code, language, subject, body)
    (
        WARNING_TEMPLATE,
        "en",
        "SLA warning: ticket #{{ ticket_id }} {{ subject }}",
        "80% of the time for the {{ clock }} of ticket #{{ ticket_id }} ({{ subject }}, "
        "customer {{ customer.name }}) has passed: it is due at {{ due_at }}." + _LINK_EN,
    ),
    (
        WARNING_TEMPLATE,
        "zh-hans",
        "SLA 预警：工单 #{{ ticket_id }} {{ subject }}",
        "工单 #{{ ticket_id }}（{{ subject }}，客户 {{ customer.name }}）的{{ clock }}时限已用去 "
        "80%，将于 {{ due_at }} 到期。" + _LINK_ZH,
    ),
    (
        BREACH_TEMPLATE,
        "en",
        "SLA breached: ticket #{{ ticket_id }} {{ subject }}",
        "The {{ clock }} of ticket #{{ ticket_id }} ({{ subject }}, customer "
        "{{ customer.name }}) was due at {{ due_at }} and is late. Assignee: {{ assignee }}."
        "{% if escalated %} Its priority is now {{ priority }}.{% endif %}" + _LINK_EN,
    ),
    (
        BREACH_TEMPLATE,
        "zh-hans",
        "SLA 超时：工单 #{{ ticket_id }} {{ subject }}",
        "工单 #{{ ticket_id }}（{{ subject }}，客户 {{ customer.name }}）的{{ clock }}已于 "
        "{{ due_at }} 到期，现已超时。处理人：{{ assignee }}。"
        "{% if escalated %}优先级已升为{{ priority }}。{% endif %}" + _LINK_ZH,
    ),
]

DEFAULT_CALENDAR = "Mon–Fri 09:00–12:00, 13:00–18:00"
# (priority, from tier rank, first response, resolution) in business minutes.
POLICIES = [
    (Priority.LOW, 1, 8 * 60, 5 * 8 * 60),
    (Priority.NORMAL, 1, 4 * 60, 3 * 8 * 60),
    (Priority.HIGH, 1, 60, 8 * 60),
    (Priority.URGENT, 1, 30, 4 * 60),
    (Priority.LOW, 3, 4 * 60, 3 * 8 * 60),
    (Priority.NORMAL, 3, 2 * 60, 2 * 8 * 60),
    (Priority.HIGH, 3, 30, 4 * 60),
    (Priority.URGENT, 3, 15, 2 * 60),
]


@transaction.atomic
def ticket_templates_seed() -> int:
    """Create the SLA watcher's templates that are missing; the number created."""
    created = 0
    for code, language, subject, body in TEMPLATES:
        _template, was_created = MessageTemplate.objects.get_or_create(
            code=code,
            channel=Channel.EMAIL,
            language=language,
            defaults={"subject": subject, "body": body, "purpose": Purpose.STAFF},
        )
        created += was_created
    return created


@transaction.atomic
def ticket_sla_defaults_seed() -> tuple[int, int]:
    """A default calendar when there is none, and the SLA policies when there are none:
    (calendars, policies) created."""
    calendars = policies = 0
    if not BusinessCalendar.objects.filter(is_default=True).exists():
        _calendar, calendars = BusinessCalendar.objects.get_or_create(
            name=DEFAULT_CALENDAR,
            defaults={
                "shifts": [["09:00", "12:00"], ["13:00", "18:00"]],
                "china_holidays": True,
                "is_default": True,
            },
        )
    if not SlaPolicy.objects.exists():
        SlaPolicy.objects.bulk_create(
            SlaPolicy(
                priority=priority,
                min_tier_rank=rank,
                first_response_minutes=response,
                resolution_minutes=resolution,
            )
            for priority, rank, response, resolution in POLICIES
        )
        policies = len(POLICIES)
    return int(calendars), policies
