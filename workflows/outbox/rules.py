"""The outbox's rules, applied when a message is due (not when it is enqueued: consent can be
withdrawn and a bereavement recorded in between), to a whole batch in a few queries.

In this order, the first that says no decides:
- expired: `expires_at` has passed.
- no_consent: the customer's Consent for the channel and purpose is granted and not withdrawn.
  A missing consent row is a refusal, for service messages too (service needs service
  consent). Call tasks need "phone" consent; WeChat template messages "push" consent (crm has
  no WeChat channel: both are notifications the customer switched on in an app).
- no_address: no e-mail for e-mail, no phone for SMS; a call task needs a phone and an RM
  (the message's assignee or the customer's owner). Push and WeChat are addressed to the
  customer's id, which the app and the official account map to a device or an openid.
- student: a loan or credit offer to a student, whatever the purpose.
- suppressed: marketing while a SensitiveEvent's `suppressed_until` is today or later.
- quiet hours: marketing inside WORKFLOWS_QUIET_HOURS (local time) is held until they end.
- staff messages (Purpose.STAFF, to `staff_recipient` about a customer): only expired and
  no_address (the staff member has no e-mail) apply; the customer's consents and the
  marketing rules are about messages to the customer.
- frequency_cap: marketing when the customer already had WORKFLOWS_MARKETING_PER_DAY
  messages claimed in the last 24 hours, or WORKFLOWS_MARKETING_PER_WEEK in the last 7 days;
  messages of the same batch count too, in the batch's order (the n-th goes, the n+1-th not).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from crm.models import Consent
from workflows.models import Message, SensitiveEvent
from workflows.models.outbox import Channel, OfferKind, Purpose

Refusal = Message.Refusal

CONSENT_CHANNEL = {
    Channel.EMAIL: Consent.Channel.EMAIL,
    Channel.SMS: Consent.Channel.SMS,
    Channel.PUSH: Consent.Channel.PUSH,
    Channel.WECHAT: Consent.Channel.PUSH,
    Channel.CALL: Consent.Channel.PHONE,
}
STUDENT_OFFERS = {OfferKind.LOAN, OfferKind.CREDIT}


@dataclass
class Decisions:
    refused: dict[str, list[int]] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)
    held_until: datetime | None = None
    sendable: list[Message] = field(default_factory=list)


def _parse(value: str) -> time:
    hours, minutes = value.strip().split(":")
    return time(int(hours), int(minutes))


def quiet_hours_end(now: datetime) -> datetime | None:
    """When the quiet hours around `now` end (aware), or None outside them."""
    start_s, end_s = settings.WORKFLOWS_QUIET_HOURS.split("-")
    start, end = _parse(start_s), _parse(end_s)
    if start == end:  # "00:00-00:00": no quiet hours
        return None
    local = timezone.localtime(now)
    t = local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, end))


def recipient_of(message: Message) -> str:
    """The address the message goes to on its channel; "" when the customer (or, for a staff
    message, the staff member) has none."""
    if message.purpose == Purpose.STAFF:
        staff = message.staff_recipient
        return (staff.email or "") if staff is not None and message.channel == Channel.EMAIL else ""
    customer = message.customer
    if message.channel == Channel.EMAIL:
        return customer.email
    if message.channel == Channel.SMS:
        return str(customer.phone or "")
    if message.channel == Channel.CALL:
        has_rm = message.assigned_to_id or customer.owner_id
        return str(customer.phone or "") if has_rm else ""
    return f"customer:{customer.pk}"


def _consents(customer_ids: set[int]) -> set[tuple[int, str, str]]:
    return set(
        Consent.objects.filter(
            customer_id__in=customer_ids, is_granted=True, withdrawn_at__isnull=True
        ).values_list("customer_id", "channel", "purpose")
    )


def _suppressed(customer_ids: set[int], today) -> set[int]:
    if not customer_ids:
        return set()
    return set(
        SensitiveEvent.objects.filter(
            customer_id__in=customer_ids, suppressed_until__gte=today
        ).values_list("customer_id", flat=True)
    )


def _marketing_counts(customer_ids: set[int], now: datetime) -> tuple[Counter, Counter]:
    """Marketing messages claimed (sending or sent) per customer: last 24 h, last 7 days."""
    day, week = Counter(), Counter()
    if not customer_ids:
        return day, week
    rows = (
        Message.objects.filter(
            customer_id__in=customer_ids,
            purpose=Purpose.MARKETING,
            state__in=[Message.State.SENDING, Message.State.SENT],
            claimed_at__gt=now - timedelta(days=7),
        )
        .values("customer_id")
        .annotate(
            week=Count("id"), day=Count("id", filter=Q(claimed_at__gt=now - timedelta(days=1)))
        )
        .order_by()
    )
    for row in rows:
        day[row["customer_id"]] = row["day"]
        week[row["customer_id"]] = row["week"]
    return day, week


def decide(messages: list[Message], *, now: datetime, rules: bool = True) -> Decisions:
    """What to do with each due message of a batch (in the batch's order): three queries."""
    decisions = Decisions()
    if not rules:  # bench.outbox only: what the rules cost
        for message in messages:
            if recipient_of(message):
                decisions.sendable.append(message)
            else:
                decisions.refused.setdefault(Refusal.NO_ADDRESS, []).append(message.pk)
        return decisions
    customer_ids = {m.customer_id for m in messages if m.purpose != Purpose.STAFF}
    marketing_ids = {m.customer_id for m in messages if m.purpose == Purpose.MARKETING}
    consents = _consents(customer_ids)
    suppressed = _suppressed(marketing_ids, timezone.localdate(now))
    per_day, per_week = _marketing_counts(marketing_ids, now)
    quiet_end = quiet_hours_end(now)

    def refusal(message: Message) -> str | None:
        if message.expires_at is not None and message.expires_at <= now:
            return Refusal.EXPIRED
        if message.purpose == Purpose.STAFF:
            return None if recipient_of(message) else Refusal.NO_ADDRESS
        consent = (message.customer_id, CONSENT_CHANNEL[message.channel], message.purpose)
        if consent not in consents:
            return Refusal.NO_CONSENT
        if not recipient_of(message):
            return Refusal.NO_ADDRESS
        if message.offer_kind in STUDENT_OFFERS and message.customer.is_student:
            return Refusal.STUDENT
        if message.purpose == Purpose.MARKETING and message.customer_id in suppressed:
            return Refusal.SUPPRESSED
        return None

    for message in messages:
        reason = refusal(message)
        if reason is not None:
            decisions.refused.setdefault(reason, []).append(message.pk)
            continue
        if message.purpose == Purpose.MARKETING:
            if quiet_end is not None:
                decisions.held.append(message.pk)
                decisions.held_until = quiet_end
                continue
            customer = message.customer_id
            if (
                per_day[customer] >= settings.WORKFLOWS_MARKETING_PER_DAY
                or per_week[customer] >= settings.WORKFLOWS_MARKETING_PER_WEEK
            ):
                decisions.refused.setdefault(Refusal.FREQUENCY_CAP, []).append(message.pk)
                continue
            per_day[customer] += 1
            per_week[customer] += 1
        decisions.sendable.append(message)
    return decisions
