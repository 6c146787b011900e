"""workflows' part of a customer's data export and erasure (crm.privacy), registered from
WorkflowsConfig.ready().

Erasure keeps the rows that count (messages sent per channel and purpose, feedback scores,
tickets with their status history and service times, enrolments, campaign membership) and
removes the personal text: messages' recipients, subjects and bodies; feedback contact details
and free-text answers; ticket subjects, descriptions and notes (also in the tickets' history)
and their attachments (rows and files); sensitive events' notes. Messages not yet sent are
refused (no address), open feedback links expire, active care sequences end (opted out), and
the customer is no longer an experience officer.
"""

from django.db.models import Q

from crm.privacy.registry import (
    AnonymiseContext,
    PrivacyHandler,
    Sections,
    register_privacy_handler,
)
from workflows.models import (
    AdoptedSuggestion,
    CampaignMember,
    Enrollment,
    ExperienceOfficer,
    FeedbackAnswer,
    FeedbackInvitation,
    FeedbackResponse,
    Message,
    SensitiveEvent,
    Ticket,
    TicketAttachment,
    TicketNote,
)
from workflows.models.outbox import Purpose
from workflows.models.sequences import ExitReason

ERASED_TEXT = "(erased)"


def workflows_sections(customer_id: int) -> Sections:
    of_customer = {"customer_id": customer_id}
    yield (
        "messages",
        Message.objects.filter(**of_customer)
        .order_by("created_at", "pk")
        .values(
            "channel",
            "purpose",
            "offer_kind",
            "occasion",
            "language",
            "subject",
            "body",
            "recipient",
            "state",
            "refusal",
            "sent_at",
            "created_at",
        ),
    )
    yield (
        "sensitive_events",
        SensitiveEvent.objects.filter(**of_customer)
        .order_by("occurred_on", "pk")
        .values("kind", "occurred_on", "suppressed_until", "note", "recorded_at"),
    )
    yield (
        "feedback_invitations",
        FeedbackInvitation.objects.filter(**of_customer)
        .order_by("created_at", "pk")
        .values("form__slug", "occasion", "created_at", "expires_at", "answered_at"),
    )
    yield (
        "feedback_responses",
        FeedbackResponse.objects.filter(**of_customer)
        .order_by("submitted_at", "pk")
        .values(
            "id",
            "form__slug",
            "service_step",
            "language",
            "submitted_at",
            "nps",
            "csat",
            "contact_name",
            "contact_phone",
            "contact_email",
        ),
    )
    yield (
        "feedback_answers",
        FeedbackAnswer.objects.filter(response__customer_id=customer_id)
        .order_by("response_id", "pk")
        .values("response_id", "question_id", "kind", "score", "choices", "text", "sentiment"),
    )
    yield (
        "adopted_suggestions",
        AdoptedSuggestion.objects.filter(**of_customer)
        .order_by("adopted_at", "pk")
        .values("answer_id", "what_changed", "adopted_at"),
    )
    yield (
        "tickets",
        Ticket.objects.filter(**of_customer)
        .order_by("created_at", "pk")
        .values(
            "id",
            "department",
            "category",
            "priority",
            "status",
            "channel",
            "subject",
            "description",
            "created_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
        ),
    )
    yield (
        "ticket_notes",
        TicketNote.objects.filter(ticket__customer_id=customer_id)
        .order_by("created_at", "pk")
        .values("ticket_id", "kind", "body", "created_at"),
    )
    yield (
        "ticket_attachments",
        TicketAttachment.objects.filter(ticket__customer_id=customer_id)
        .order_by("uploaded_at", "pk")
        .values("ticket_id", "name", "content_type", "size", "uploaded_at"),
    )
    yield (
        "care_sequence_enrolments",
        Enrollment.objects.filter(**of_customer)
        .order_by("enrolled_at", "pk")
        .values("sequence__name", "occasion", "enrolled_at", "state", "exit_reason"),
    )
    yield (
        "campaigns",
        CampaignMember.objects.filter(**of_customer)
        .order_by("pk")
        .values("campaign__name", "is_control", "converted_at"),
    )
    yield (
        "experience_officer",
        ExperienceOfficer.objects.filter(**of_customer)
        .order_by("pk")
        .values("invited_at", "is_active"),
    )


def workflows_anonymise(context: AnonymiseContext) -> dict[str, int]:
    customer_id, now = context.customer_id, context.now
    of_customer = Q(customer_id=customer_id)
    counts: dict[str, int] = {}
    # Staff messages about the customer (SLA alerts on a kept ticket) still go to the staff
    # member, whose address is not the customer's; their text goes like the rest.
    to_customer = Message.objects.filter(of_customer).exclude(purpose=Purpose.STAFF)
    unsent = (Message.State.QUEUED, Message.State.HELD)
    counts["workflows.messages_refused"] = to_customer.filter(state__in=unsent).update(
        state=Message.State.REFUSED, refusal=Message.Refusal.NO_ADDRESS
    )
    counts["workflows.messages"] = to_customer.update(recipient="", subject="", body="")
    counts["workflows.staff_messages"] = Message.objects.filter(
        of_customer, purpose=Purpose.STAFF
    ).update(subject="", body="")
    counts["workflows.sensitive_events"] = (
        SensitiveEvent.objects.filter(of_customer).exclude(note="").update(note="")
    )
    counts["workflows.feedback_responses"] = FeedbackResponse.objects.filter(of_customer).update(
        contact_name="", contact_phone="", contact_email=""
    )
    counts["workflows.feedback_answers"] = (
        FeedbackAnswer.objects.filter(response__customer_id=customer_id)
        .exclude(text="")
        .update(text="")
    )
    counts["workflows.feedback_invitations_expired"] = FeedbackInvitation.objects.filter(
        of_customer, answered_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    counts["workflows.tickets"] = Ticket.objects.filter(of_customer).update(
        subject=ERASED_TEXT, description=""
    )
    counts["workflows.ticket_history"] = Ticket.history.model.objects.filter(  # type: ignore[attr-defined]
        of_customer
    ).update(subject=ERASED_TEXT, description="")
    counts["workflows.ticket_notes"] = TicketNote.objects.filter(
        ticket__customer_id=customer_id
    ).update(body=ERASED_TEXT)
    counts["workflows.ticket_attachments"] = context.delete_with_files(
        TicketAttachment.objects.filter(ticket__customer_id=customer_id)
    )
    counts["workflows.enrolments_ended"] = Enrollment.objects.filter(
        of_customer, state=Enrollment.State.ACTIVE
    ).update(
        state=Enrollment.State.EXITED,
        exit_reason=ExitReason.OPTED_OUT,
        next_step=None,
        next_due_at=None,
    )
    counts["workflows.experience_officer"] = ExperienceOfficer.objects.filter(
        of_customer, is_active=True
    ).update(is_active=False)
    return counts


def register_workflows_privacy_handler() -> None:
    register_privacy_handler(
        PrivacyHandler(
            key="workflows",
            sections=workflows_sections,
            anonymise=workflows_anonymise,
            order=30,
        )
    )
