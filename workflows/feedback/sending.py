"""Sending a form to a segment: each customer gets a personal link through the outbox, whose
rules apply to every message (consent, quiet hours, caps, suppression, expiry).

As a campaign's launch (workflows/campaigns/launch.py): the guarded UPDATE scheduled -> sent
makes the sending happen once; then one INSERT ... SELECT of the invitations (occasion
"sending:<id>") and one of their messages (occasion "feedback:<form>:sending:<id>", rendered
with the link when sent, see workflows/feedback/invitations.py). Running it again changes
nothing.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer, Segment
from workflows.feedback.invitations import (
    channel_check_for_link,
    form_check_sendable,
    invitation_message_occasion,
    invitations_create_for,
    link_expiry,
)
from workflows.models import FeedbackInvitation, FeedbackSending
from workflows.models.outbox import Channel, Purpose
from workflows.outbox.enqueue import messages_enqueue_for
from workflows.outbox.rendering import customer_language, template_find

logger = logging.getLogger(__name__)


@dataclass
class SendingResult:
    invited: int = 0
    messages: int = 0


def segment_customers(segment: Segment) -> QuerySet[Customer]:
    """The segment's customers over the whole company (a sending is the company's, as a
    campaign); a saved filter that no longer validates selects nobody."""
    from crm.filters import CustomerFilter

    customer_filter = CustomerFilter(data=segment.definition or {}, queryset=Customer.objects.all())
    if not customer_filter.is_valid():
        logger.warning("feedback sending: segment %s is invalid", segment.pk)
        return Customer.objects.none()
    return customer_filter.qs


def sending_check(sending: FeedbackSending) -> None:
    """What a sending needs to go out; raises ValidationError per field."""
    errors: dict[str, list[str]] = {}
    if sending.form_id is not None:
        try:
            form_check_sendable(sending.form)
        except ValidationError as error:
            errors["form"] = error.messages
    if sending.channel not in Channel.values:
        errors["channel"] = [_("Unknown channel: %(value)s.") % {"value": sending.channel}]
    else:
        try:
            channel_check_for_link(sending.channel)
            template_find(
                code=sending.template_code,
                channel=sending.channel,
                language=customer_language(None),
            )
        except ValidationError as error:
            errors.setdefault(
                "channel" if error.code == "call_channel" else "template_code", []
            ).extend(error.messages)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def sending_send(*, sending_id: int) -> SendingResult | None:
    """Send one due scheduled sending; None if it is not (or no longer) due. A form or
    template that is not ready raises ValidationError and nothing happens (it stays due)."""
    now = timezone.now()
    claimed = FeedbackSending.objects.filter(
        pk=sending_id, state=FeedbackSending.State.SCHEDULED, scheduled_at__lte=now
    ).update(state=FeedbackSending.State.SENT, sent_at=now)
    if not claimed:
        return None
    sending = FeedbackSending.objects.select_related(
        "form__current_version", "segment", "created_by"
    ).get(pk=sending_id)
    sending_check(sending)
    form = sending.form
    result = SendingResult(
        invited=invitations_create_for(
            segment_customers(sending.segment), form=form, occasion=sending.occasion, now=now
        )
    )
    invited = Customer.objects.filter(
        feedback_invitations__form=form, feedback_invitations__occasion=sending.occasion
    )
    result.messages = messages_enqueue_for(
        invited,
        channel=sending.channel,
        purpose=Purpose.SERVICE,
        occasion=invitation_message_occasion(form_id=form.pk, occasion=sending.occasion),
        template_code=sending.template_code,
        expires_at=link_expiry(form, now=now),
        created_by=sending.created_by,
    )
    FeedbackSending.objects.filter(pk=sending_id).update(invited=result.invited)
    return result


def sendings_send_due() -> dict[int, SendingResult]:
    """What the beat task runs every minute: each due sending, in its own transaction."""
    due = FeedbackSending.objects.filter(
        state=FeedbackSending.State.SCHEDULED, scheduled_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    results = {}
    for sending_id in list(due):
        try:
            result = sending_send(sending_id=sending_id)
        except ValidationError:
            # E.g. its form was deactivated since: it stays scheduled, the others go out.
            logger.exception("feedback sending %s could not be sent", sending_id)
            continue
        if result is not None:
            results[sending_id] = result
    return results


@transaction.atomic
def sending_send_now(*, sending: FeedbackSending) -> None:
    """Bring a scheduled sending forward to now; the beat task sends it within the minute."""
    sending_check(sending)
    moved = FeedbackSending.objects.filter(
        pk=sending.pk, state=FeedbackSending.State.SCHEDULED
    ).update(scheduled_at=timezone.now())
    if not moved:
        raise ValidationError(_("This form was already sent."), code="already_sent")


def sendings_answered(sendings: list[FeedbackSending]) -> dict[int, int]:
    """How many of each sending's invitations were answered, in one GROUP BY query."""
    if not sendings:
        return {}
    by_occasion = {(s.form_id, s.occasion): s.pk for s in sendings}
    rows = (
        FeedbackInvitation.objects.filter(
            form_id__in={s.form_id for s in sendings},
            occasion__in={s.occasion for s in sendings},
            answered_at__isnull=False,
        )
        .order_by()
        .values("form_id", "occasion")
        .annotate(n=Count("pk"))
    )
    answered = dict.fromkeys(by_occasion.values(), 0)
    for row in rows:
        sending_id = by_occasion.get((row["form_id"], row["occasion"]))
        if sending_id is not None:
            answered[sending_id] = row["n"]
    return answered
