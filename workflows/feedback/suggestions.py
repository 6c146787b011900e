"""Closing the loop: a supervisor marks a customer's suggestion as adopted.

In one transaction: the AdoptedSuggestion row (once per answer: its OneToOne), an Interaction of
kind SUGGESTION on the customer's timeline (loyalty's earning rules give their bonus for it,
through crm's `interactions_stored`, once per interaction and program), and a SERVICE message
in the outbox telling the customer what their suggestion led to (once per adoption: the
occasion `suggestion:<id>`). The template is seeded by `manage.py seed_feedback`.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Interaction
from crm.services.interactions import interaction_record
from workflows.models import AdoptedSuggestion, FeedbackAnswer
from workflows.models.feedback import TEXT_KINDS
from workflows.models.outbox import Channel, Purpose
from workflows.outbox.enqueue import message_enqueue

TEMPLATE_CODE = "feedback_suggestion_adopted"


def suggestion_channel(customer) -> str:
    """SMS when the customer has a phone, else e-mail (the outbox still checks consent)."""
    if not customer.phone and customer.email:
        return Channel.EMAIL
    return Channel.SMS


@transaction.atomic
def suggestion_adopt(*, answer: FeedbackAnswer, what_changed: str, adopted_by) -> AdoptedSuggestion:
    """Adopt a known customer's free-text answer; a second adoption of it is refused."""
    what_changed = (what_changed or "").strip()
    if not what_changed:
        raise ValidationError(
            {"what_changed": _("Say what changed thanks to the suggestion.")}, code="required"
        )
    # Locking the answer orders two supervisors adopting it at once; the OneToOne decides.
    answer = (
        FeedbackAnswer.objects.select_for_update(of=("self",))
        .select_related("response__customer")
        .get(pk=answer.pk)
    )
    if answer.kind not in TEXT_KINDS or not answer.text.strip():
        raise ValidationError(
            _("Only a free-text answer can be adopted as a suggestion."), code="not_text"
        )
    customer = answer.response.customer
    if customer is None:
        raise ValidationError(
            _("This answer came through the open link: nobody can be told or rewarded."),
            code="anonymous",
        )
    if AdoptedSuggestion.objects.filter(answer_id=answer.pk).exists():
        raise ValidationError(_("This suggestion was adopted already."), code="already_adopted")
    now = timezone.now()
    # loyalty posts the bonus inside this transaction (key per interaction and program).
    interaction = interaction_record(
        customer_id=customer.pk,
        kind=Interaction.Kind.SUGGESTION,
        occurred_at=now,
        summary=_("Suggestion adopted: %(what)s") % {"what": what_changed},
        staff=adopted_by,
    )
    try:
        with transaction.atomic():
            adoption = AdoptedSuggestion.objects.create(
                answer=answer,
                customer=customer,
                what_changed=what_changed,
                adopted_by=adopted_by,
                adopted_at=now,
                interaction=interaction,
            )
    except IntegrityError:
        raise ValidationError(
            _("This suggestion was adopted already."), code="already_adopted"
        ) from None
    message_enqueue(
        customer=customer,
        channel=suggestion_channel(customer),
        purpose=Purpose.SERVICE,
        occasion=f"suggestion:{adoption.pk}",
        template_code=TEMPLATE_CODE,
        context={"what_changed": what_changed},
        created_by=adopted_by,
    )
    return adoption


def adopted_suggestion_count(*, customer_id: int) -> int:
    return AdoptedSuggestion.objects.filter(customer_id=customer_id).count()
