"""Storing an answered form: the one service behind the public pages and the API.

`response_submit` checks the answers against the frozen version the customer saw, then, in one
transaction: claims the personal link (a guarded UPDATE, so of two concurrent answers to one
link exactly one goes through; the response's unique `invitation` is the second guarantee),
writes the response and its answers, puts an entry on a known customer's timeline and emits
the `feedback.received` webhook event. Anything refused writes nothing.

`data` maps question ids ("q12") to answers: NPS and CSAT a whole number (or its digits as a
string), a single choice the choice's value ("2"), a multiple choice a list of values, free text
a string. An empty answer ("", [], None) is no answer.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Customer, Interaction
from crm.selectors import phone_normalize
from crm.services.interactions import interaction_record
from workflows.feedback.reading.language import text_language
from workflows.feedback.signals import feedback_response_stored
from workflows.models import (
    ExperienceOfficer,
    FeedbackAnswer,
    FeedbackInvitation,
    FeedbackResponse,
    FormVersion,
)
from workflows.models.feedback import QuestionKind, ServiceStep
from workflows.models.webhooks import EventType
from workflows.webhooks.emit import webhook_event_emit

SCORE_RANGES: dict[str, tuple[int, int]] = {QuestionKind.NPS: (0, 10), QuestionKind.CSAT: (1, 5)}
TEXT_LIMITS: dict[str, int] = {QuestionKind.SHORT_TEXT: 200, QuestionKind.LONG_TEXT: 2000}
CONTACT_NAME_MAX = 100
SUMMARY_TEXT_CHARS = 120


class SubmissionRefused(Exception):
    """The answer cannot be taken at all (as opposed to invalid answers)."""


class AlreadyAnswered(SubmissionRefused):
    """The personal link was answered before: one answer per link."""


class LinkExpired(SubmissionRefused):
    """The personal link is past its expiry."""


class FormClosed(SubmissionRefused):
    """The form is not active, or the version is not one of this form's."""


@dataclass(frozen=True)
class _Answer:
    question_id: str
    kind: str
    score: int | None = None
    choices: tuple[str, ...] = ()
    text: str = ""


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _score(value: Any, kind: str) -> int:
    low, high = SCORE_RANGES[kind]
    message = _("Choose a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
    if isinstance(value, bool):
        raise ValidationError(message, code="out_of_range")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(message, code="out_of_range")
    return value


def _answer_clean(question: dict, value: Any) -> _Answer | None:
    """One question's answer, or None when it was left empty."""
    kind, question_id = question["kind"], question["id"]
    if isinstance(value, str):
        value = value.strip()
    if _blank(value):
        if question.get("required"):
            raise ValidationError(_("Please answer this question."), code="required")
        return None
    if kind in SCORE_RANGES:
        return _Answer(question_id, kind, score=_score(value, kind))
    valid = [choice["value"] for choice in question.get("choices", [])]
    if kind == QuestionKind.SINGLE:
        if not isinstance(value, str | int) or str(value) not in valid:
            raise ValidationError(_("Choose one of the options."), code="invalid_choice")
        return _Answer(question_id, kind, choices=(str(value),))
    if kind == QuestionKind.MULTIPLE:
        values = [value] if isinstance(value, str | int) else value
        if not isinstance(values, list | tuple) or any(
            not isinstance(item, str | int) or str(item) not in valid for item in values
        ):
            raise ValidationError(_("Choose among the options only."), code="invalid_choice")
        chosen = {str(item) for item in values}
        return _Answer(question_id, kind, choices=tuple(v for v in valid if v in chosen))
    if kind in TEXT_LIMITS:
        if not isinstance(value, str):
            raise ValidationError(_("Write your answer as text."), code="invalid")
        text = value
        if len(text) > TEXT_LIMITS[kind]:
            raise ValidationError(
                _("Please keep it under %(limit)s characters (it has %(length)s).")
                % {"limit": TEXT_LIMITS[kind], "length": len(text)},
                code="too_long",
            )
        return _Answer(question_id, kind, text=text)
    raise ValidationError(_("This question cannot be answered."), code="unknown_kind")


def answers_clean(*, questions: list[dict], data: dict[str, Any]) -> list[_Answer]:
    """The answers to a frozen version's questions, in the questions' order; a ValidationError
    mapping each question id (or unknown key) to its message otherwise."""
    if not isinstance(data, dict):
        raise ValidationError(_("Send the answers as an object of question ids."), code="invalid")
    errors: dict[str, ValidationError] = {}
    known = {question["id"] for question in questions}
    for key in data:
        if key not in known:
            errors[str(key)] = ValidationError(_("There is no such question."), code="unknown")
    answers = []
    for question in questions:
        try:
            answer = _answer_clean(question, data.get(question["id"]))
        except ValidationError as error:
            errors[question["id"]] = error
            continue
        if answer is not None:
            answers.append(answer)
    if errors:
        raise ValidationError(errors)
    return answers


def contact_clean(contact: dict[str, Any] | None) -> dict[str, str]:
    """Optional contact details of an open link: name, phone (stored as E.164), e-mail."""
    contact = contact or {}
    name = str(contact.get("name") or "").strip()
    phone = str(contact.get("phone") or "").strip()
    email = str(contact.get("email") or "").strip().lower()
    errors: dict[str, ValidationError] = {}
    if len(name) > CONTACT_NAME_MAX:
        errors["contact_name"] = ValidationError(
            _("Please keep it under %(limit)s characters.") % {"limit": CONTACT_NAME_MAX},
            code="too_long",
        )
    if phone:
        normalized = phone_normalize(phone)
        if normalized is None:
            errors["contact_phone"] = ValidationError(
                _("Enter a valid phone number."), code="invalid_phone"
            )
        phone = normalized or ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = ValidationError(
                _("Enter a valid e-mail address."), code="invalid_email"
            )
    if errors:
        raise ValidationError(errors)
    return {"contact_name": name, "contact_phone": phone, "contact_email": email}


def _invitation_claim(*, invitation: FeedbackInvitation, now) -> None:
    """Mark the link answered, or raise: the WHERE makes a second answer claim nothing (a
    concurrent one waits for the first to commit, then finds answered_at set)."""
    claimed = FeedbackInvitation.objects.filter(
        pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now
    ).update(answered_at=now)
    if claimed:
        invitation.answered_at = now
        return
    current = FeedbackInvitation.objects.filter(pk=invitation.pk).values("answered_at").first()
    if current is None or current["answered_at"] is not None:
        raise AlreadyAnswered
    raise LinkExpired


def _interaction_kind(*, customer_id: int, service_step: str) -> str:
    """An experience officer's product test counts as a quality review (loyalty's tiers)."""
    if (
        service_step == ServiceStep.PRODUCT_TEST
        and ExperienceOfficer.objects.filter(customer_id=customer_id, is_active=True).exists()
    ):
        return Interaction.Kind.REVIEW
    return Interaction.Kind.FEEDBACK


def _summary(*, form_name: str, nps: int | None, csat: int | None, answers: list[_Answer]) -> str:
    """Staff read it on the timeline: language-neutral apart from the customer's own words."""
    pairs = (("NPS", nps), ("CSAT", csat))
    scores = [f"{label} {value}" for label, value in pairs if value is not None]
    summary = f"{form_name}: {' · '.join(scores)}" if scores else form_name
    text = next((answer.text for answer in answers if answer.text), "")
    if text:
        short = text if len(text) <= SUMMARY_TEXT_CHARS else text[:SUMMARY_TEXT_CHARS] + "…"
        summary += f" — “{short}”"
    return summary


def response_submit(
    *,
    version: FormVersion,
    data: dict[str, Any],
    customer: Customer | None = None,
    invitation: FeedbackInvitation | None = None,
    language: str = "",
    contact: dict[str, Any] | None = None,
) -> FeedbackResponse:
    """Store one answered form (see the module's docstring).

    Raises ValidationError (question id -> message, in the active language) for invalid
    answers or contact details, AlreadyAnswered / LinkExpired for a personal link that cannot
    take an answer, FormClosed for an inactive form; each writes nothing. `contact` (name,
    phone, email) is kept only for an open link of a form that asks for it.
    """
    form = version.form
    if not form.is_active:
        raise FormClosed
    if invitation is not None:
        if invitation.form_id != form.pk:
            raise FormClosed
        if customer is not None and customer.pk != invitation.customer_id:
            raise ValueError("The customer is not the one the personal link names.")
    answers = answers_clean(questions=version.questions, data=data)
    if invitation is not None:
        customer_id: int | None = invitation.customer_id
    else:
        customer_id = customer.pk if customer is not None else None
    contact_fields = contact_clean(contact) if customer_id is None and form.ask_contact else {}
    nps = next((a.score for a in answers if a.kind == QuestionKind.NPS), None)
    csat = next((a.score for a in answers if a.kind == QuestionKind.CSAT), None)
    now = timezone.now()
    with transaction.atomic():
        if invitation is not None:
            _invitation_claim(invitation=invitation, now=now)
        interaction = None
        if customer_id is not None:
            # loyalty may give a bonus (a review), in this transaction.
            interaction = interaction_record(
                customer_id=customer_id,
                kind=_interaction_kind(customer_id=customer_id, service_step=form.service_step),
                occurred_at=now,
                summary=_summary(form_name=form.name, nps=nps, csat=csat, answers=answers),
            )
        response = FeedbackResponse.objects.create(
            form=form,
            version=version,
            service_step=form.service_step,
            customer_id=customer_id,
            invitation=invitation,
            occasion=invitation.occasion if invitation is not None else "",
            language=language[:10],
            submitted_at=now,
            nps=nps,
            csat=csat,
            interaction=interaction,
            **contact_fields,
        )
        FeedbackAnswer.objects.bulk_create(
            [
                FeedbackAnswer(
                    response=response,
                    question_id=answer.question_id,
                    kind=answer.kind,
                    score=answer.score,
                    choices=list(answer.choices),
                    text=answer.text,
                    text_language=text_language(answer.text) if answer.text else "",
                )
                for answer in answers
            ]
        )
        # A ticket's survey answered badly opens a follow-up (workflows.tickets), in here.
        feedback_response_stored.send(sender=FeedbackResponse, response=response)
        webhook_event_emit(
            event_type=EventType.FEEDBACK_RECEIVED,
            payloads=[
                {
                    "response_id": response.pk,
                    "form": form.slug,
                    "version": version.number,
                    "customer_id": customer_id,
                    "service_step": form.service_step,
                    "nps": nps,
                    "csat": csat,
                    "submitted_at": now.isoformat(),
                }
            ],
        )
    return response
