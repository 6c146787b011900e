"""Resolving a ticket: the survey once (not again on re-resolve), a dissatisfied answer opens
one follow-up for the supervisor, the `ticket.resolved` webhook event, the care trigger; and
attachments' limits; and two tickets opened at once on PostgreSQL go to two agents."""

import io
import threading
import zipfile
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tests.factories import CustomerFactory
from tests.workflows.conftest import SHANGHAI, consenting_customer
from tests.workflows.feedback_sending import form
from tests.workflows.tickets_core_data import agent, open_ticket
from workflows.feedback.submission import response_submit
from workflows.models import (
    CareSequence,
    CareStep,
    Enrollment,
    Message,
    Ticket,
    TicketAttachment,
    WebhookDelivery,
    WebhookEndpoint,
)
from workflows.models.feedback import ServiceStep
from workflows.models.sequences import TriggerKind
from workflows.tickets.services import ticket_attachment_add, ticket_note_add, ticket_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(noon):
    return form(slug="after-ticket", service_step=ServiceStep.TICKET)


def resolved(ticket, by=None):
    return ticket_transition(ticket=ticket, to_status="resolved", by=by)


def survey_messages():
    return Message.objects.filter(occasion__startswith="feedback:")


def test_resolving_sends_the_ticket_survey_once_and_not_again_on_re_resolve(survey, rm):
    customer = consenting_customer(purposes=("service",), owner=rm)
    ticket = resolved(open_ticket(customer))

    assert ticket.survey_invitation is not None
    assert ticket.survey_invitation.occasion == f"ticket:{ticket.pk}"
    assert survey_messages().count() == 1
    ticket = ticket_transition(ticket=ticket, to_status="open", by=rm)
    ticket = resolved(ticket)

    assert survey_messages().count() == 1
    assert Ticket.objects.get(pk=ticket.pk).survey_invitation_id == ticket.survey_invitation_id


def test_without_a_ticket_survey_form_resolving_sends_nothing(noon):
    form(slug="general", service_step=ServiceStep.GENERAL)
    ticket = resolved(open_ticket(consenting_customer(purposes=("service",))))
    assert ticket.survey_invitation is None
    assert survey_messages().count() == 0


def answer(ticket, *, nps: int):
    version = ticket.survey_invitation.form.current_version
    nps_id = next(q["id"] for q in version.questions if q["kind"] == "nps")
    return response_submit(version=version, data={nps_id: nps}, invitation=ticket.survey_invitation)


def test_a_dissatisfied_answer_opens_one_follow_up_for_the_supervisor(survey, rm, supervisor):
    agent("worker")
    customer = consenting_customer(purposes=("service",), owner=rm)
    ticket = resolved(open_ticket(customer))

    answer(ticket, nps=3)

    follow_up = Ticket.objects.get(parent=ticket)
    assert follow_up.category == "complaint"
    assert follow_up.priority == 3
    assert follow_up.assignee == supervisor
    assert follow_up.subject == f"Follow-up: dissatisfied after #{ticket.pk}"
    # Reopened and resolved again: no new survey, so no second follow-up either.
    resolved(ticket_transition(ticket=ticket, to_status="open", by=rm))
    assert Ticket.objects.filter(parent=ticket).count() == 1


def test_a_satisfied_answer_opens_nothing(survey, rm):
    ticket = resolved(open_ticket(consenting_customer(purposes=("service",), owner=rm)))
    answer(ticket, nps=9)
    assert not Ticket.objects.filter(parent=ticket).exists()


def test_first_response_and_resolution_times_are_kept_in_business_minutes(time_machine, rm):
    """Fallback calendar, Mon-Fri 09:00-18:00: opened Friday 17:00, answered Friday 17:40,
    resolved Monday 10:00 (Friday's last hour and Monday's first): 40 and 120 minutes."""
    time_machine.move_to(datetime(2026, 6, 5, 17, tzinfo=SHANGHAI), tick=False)
    ticket = open_ticket()
    time_machine.move_to(datetime(2026, 6, 5, 17, 40, tzinfo=SHANGHAI), tick=False)
    ticket_note_add(ticket=ticket, kind="reply", body="Looking into it.", author=rm)
    time_machine.move_to(datetime(2026, 6, 8, 10, tzinfo=SHANGHAI), tick=False)
    ticket_transition(ticket=ticket, to_status=Ticket.Status.RESOLVED, by=rm)

    ticket.refresh_from_db()
    assert (ticket.first_response_business_minutes, ticket.resolution_business_minutes) == (40, 120)
    ticket_transition(ticket=ticket, to_status=Ticket.Status.OPEN, by=rm)  # reopened
    ticket.refresh_from_db()
    assert ticket.resolution_business_minutes is None
    assert ticket.first_response_business_minutes == 40


def test_resolving_emits_the_webhook_event_once_per_resolution(noon):
    WebhookEndpoint.objects.create(name="crm", url="https://a.example/", events=["ticket.resolved"])
    ticket = resolved(open_ticket(external_id="app-77"))

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "ticket.resolved"
    data = delivery.payload["data"]
    assert data["ticket_id"] == ticket.pk
    assert data["external_id"] == "app-77"
    assert data["resolved_at"] == ticket.resolved_at.isoformat()


def test_resolving_enrols_in_the_ticket_resolved_care_sequence_once(noon, rm):
    sequence = CareSequence.objects.create(
        name="After service", trigger=TriggerKind.TICKET_RESOLVED
    )
    CareStep.objects.create(
        sequence=sequence, order=1, delay_days=1, channel="sms", template_code="care_tips"
    )
    ticket = resolved(open_ticket())
    resolved(ticket_transition(ticket=ticket, to_status="open", by=rm))

    enrollment = Enrollment.objects.get()
    assert enrollment.occasion == f"ticket:{ticket.pk}"
    assert enrollment.customer_id == ticket.customer_id


# --- Attachments ------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed date: the same bytes (and test ids) in every test process.
        stamp = (2026, 1, 1, 0, 0, 0)
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", stamp), "<Types/>")
        archive.writestr(zipfile.ZipInfo("word/document.xml", stamp), "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("收据.pdf", PDF, "application/pdf"),
        ("screen.PNG", PNG, "image/png"),
        ("notes.txt", "登录失败，错误码 E102".encode(), "text/plain"),
        (
            "form.docx",
            docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_an_accepted_file_is_stored_under_a_name_we_make(media, name, content, content_type):
    ticket = open_ticket()
    attachment = ticket_attachment_add(
        ticket=ticket, uploaded_file=SimpleUploadedFile(name, content), by=None
    )
    assert attachment.name == name
    assert attachment.content_type == content_type
    assert attachment.size == len(content)
    assert name.split(".")[0] not in attachment.file.name
    assert attachment.file.name.startswith("tickets/")
    with attachment.file.open("rb") as stored:
        assert stored.read() == content


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("virus.exe", b"MZ\x90\x00", "type_not_allowed"),
        ("invoice.pdf", PNG, "content_mismatch"),
        ("photo.jpg", PDF, "content_mismatch"),
        ("form.docx", b"PK\x03\x04not really a zip", "content_mismatch"),
        ("notes.txt", b"\x00\x01binary", "content_mismatch"),
        ("empty.pdf", b"", "empty"),
        ("noextension", PDF, "type_not_allowed"),
    ],
)
def test_a_refused_file_stores_nothing(media, name, content, code):
    with pytest.raises(ValidationError) as refused:
        ticket_attachment_add(
            ticket=open_ticket(), uploaded_file=SimpleUploadedFile(name, content), by=None
        )
    assert refused.value.code == code
    assert TicketAttachment.objects.count() == 0
    assert not (media / "tickets").exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(media, settings):
    settings.WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="too large") as refused:
        ticket_attachment_add(
            ticket=open_ticket(), uploaded_file=SimpleUploadedFile("big.pdf", PDF * 10), by=None
        )
    assert refused.value.code == "too_large"


# --- The race ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a race needs PostgreSQL's locks")
def test_two_tickets_opened_at_once_go_to_two_agents():
    first, second = agent("first"), agent("second")
    customers = [CustomerFactory(), CustomerFactory()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(customer):
        try:
            barrier.wait()
            open_ticket(customer)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(Ticket.objects.values_list("assignee__username", flat=True)) == [
        "first",
        "second",
    ]
    assert {first.pk, second.pk} == set(Ticket.objects.values_list("assignee_id", flat=True))
