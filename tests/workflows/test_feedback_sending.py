"""Sending a form to a segment: one personal link per customer through the outbox, once; the
link is written into the message when it is sent and opens the customer's invitation."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from tests.factories import CustomerFactory
from tests.workflows.conftest import consenting_customer
from tests.workflows.feedback_sending import due_sending, form, invitation_of_link
from workflows.feedback import links
from workflows.feedback.invitations import invitation_send
from workflows.feedback.seeds import feedback_templates_seed
from workflows.feedback.sending import sending_send, sendings_send_due
from workflows.models import FeedbackInvitation, FeedbackSending, Message, MessageTemplate
from workflows.outbox.dispatch import outbox_dispatch
from workflows.tasks import feedback_sendings_send_task

pytestmark = pytest.mark.django_db


def test_a_sending_invites_each_customer_of_the_segment_once(noon):
    customers = CustomerFactory.create_batch(4)
    sending = due_sending(noon)
    assert feedback_sendings_send_task.apply().get() == {str(sending.pk): 4}
    invitations = list(
        FeedbackInvitation.objects.values_list("pk", "customer_id", "occasion", "expires_at")
    )
    messages = list(Message.objects.values_list("pk", "key"))
    CustomerFactory()  # joins the segment after the sending: not invited
    assert feedback_sendings_send_task.apply().get() == {}
    assert sending_send(sending_id=sending.pk) is None
    assert list(
        FeedbackInvitation.objects.values_list("pk", "customer_id", "occasion", "expires_at")
    ) == (invitations)
    assert list(Message.objects.values_list("pk", "key")) == messages
    assert {row[1] for row in invitations} == {c.pk for c in customers}
    assert {row[2] for row in invitations} == {f"sending:{sending.pk}"}
    assert {row[3] for row in invitations} == {noon + timedelta(days=30)}
    assert set(Message.objects.values_list("customer_id", flat=True)) == {c.pk for c in customers}
    assert set(Message.objects.values_list("occasion", "purpose", "channel", "expires_at")) == {
        (
            f"feedback:{sending.form_id}:sending:{sending.pk}",
            "service",
            "sms",
            noon + timedelta(days=30),
        )
    }
    sending.refresh_from_db()
    assert (sending.state, sending.sent_at, sending.invited) == ("sent", noon, 4)


def test_only_the_segments_customers_are_invited_and_not_before_the_time(noon):
    students = CustomerFactory.create_batch(2, is_student=True)
    CustomerFactory.create_batch(3, is_student=False)
    later = due_sending(noon, scheduled_at=noon + timedelta(hours=1))
    now = due_sending(noon, form_=later.form, definition={"is_student": "true"})
    assert set(sendings_send_due()) == {now.pk}
    assert set(FeedbackInvitation.objects.values_list("customer_id", flat=True)) == {
        c.pk for c in students
    }
    later.refresh_from_db()
    assert later.state == FeedbackSending.State.SCHEDULED


def _queries_for(now, customers: int, *, students: bool) -> int:
    CustomerFactory.create_batch(customers, is_student=students)
    sending = due_sending(now, definition={"is_student": str(students).lower()})
    with CaptureQueriesContext(connection) as queries:
        result = sending_send(sending_id=sending.pk)
    assert result is not None
    assert (result.invited, result.messages) == (customers, customers)
    return len(queries.captured_queries)


def test_sending_is_set_based_the_same_queries_for_10_and_100_customers(noon):
    assert _queries_for(noon, 10, students=True) == _queries_for(noon, 100, students=False)


def test_the_sent_message_carries_a_working_personal_link(noon, outbox_file):
    customer = consenting_customer(purposes=("service",))
    sending = due_sending(noon)
    sendings_send_due()
    result = outbox_dispatch()
    assert result.sent == 1
    message = Message.objects.get()
    assert message.state == Message.State.SENT
    invitation = invitation_of_link(message.body)
    assert (invitation.customer_id, invitation.form_id, invitation.occasion) == (
        customer.pk,
        sending.form_id,
        sending.occasion,
    )
    assert f"/f/{sending.form.slug}/" in message.body
    assert "?lang=en" in message.body
    # What went out is what is stored.
    assert message.body.replace("\n", " ") in outbox_file.read_text()


def test_the_link_is_in_the_templates_language_with_the_forms_title(noon, outbox_file):
    MessageTemplate.objects.create(
        code="survey-mail",
        channel="email",
        language="zh-hans",
        subject="{{ feedback_form }}",
        body="{{ feedback_link }} 有效期至{{ link_expires_on }}",
    )
    consenting_customer(channels=("email",), purposes=("service",))
    due_sending(noon, channel="email", template_code="survey-mail")
    sendings_send_due()
    outbox_dispatch()
    message = Message.objects.get()
    assert message.state == Message.State.SENT
    assert (message.language, message.subject) == ("zh-hans", "请评价我们的服务")
    assert "?lang=zh-hans" in message.body
    assert message.body.endswith("有效期至2026-07-10")
    assert invitation_of_link(message.body).customer_id == message.customer_id


def test_the_outboxs_rules_still_apply_no_consent_is_refused(noon, outbox_file):
    consenting = consenting_customer(purposes=("service",))
    marketing_only = consenting_customer(purposes=("marketing",))
    nobody = CustomerFactory()
    due_sending(noon)
    sendings_send_due()
    outbox_dispatch()
    states = {m.customer_id: (m.state, m.refusal) for m in Message.objects.all()}
    assert states == {
        consenting.pk: ("sent", ""),
        marketing_only.pk: ("refused", "no_consent"),
        nobody.pk: ("refused", "no_consent"),
    }
    assert FeedbackInvitation.objects.count() == 3


def test_a_message_whose_invitation_is_gone_fails_instead_of_carrying_a_dead_link(
    noon, outbox_file
):
    kept = consenting_customer(purposes=("service",))
    lost = consenting_customer(purposes=("service",))
    due_sending(noon)
    sendings_send_due()
    FeedbackInvitation.objects.filter(customer=lost).delete()
    result = outbox_dispatch()
    assert (result.sent, result.failed) == (1, 1)
    failed = Message.objects.get(customer=lost)
    assert failed.state == Message.State.FAILED
    assert "feedback invitation not found" in failed.error
    assert failed.body == ""
    sent = Message.objects.get(customer=kept)
    assert sent.state == Message.State.SENT
    assert [line.split("\t")[0] for line in outbox_file.read_text().splitlines()] == [str(sent.pk)]


def test_dispatch_reads_the_links_of_a_batch_in_constant_queries(noon, outbox_file):
    def dispatch_queries(customers: int) -> int:
        while Customer.objects.count() < customers:
            consenting_customer(purposes=("service",))
        sending = due_sending(noon)
        sending_send(sending_id=sending.pk)
        with CaptureQueriesContext(connection) as queries:
            result = outbox_dispatch()
        assert result.sent == customers
        return len(queries.captured_queries)

    few = dispatch_queries(3)
    assert dispatch_queries(15) == few


def test_a_sending_needs_an_active_published_form_and_a_template(noon, caplog):
    CustomerFactory()
    unpublished = form(slug="draft")
    unpublished.current_version = None
    unpublished.save(update_fields=["current_version"])
    draft = due_sending(noon, form_=unpublished)
    with pytest.raises(ValidationError) as error:
        sending_send(sending_id=draft.pk)
    assert "form" in error.value.error_dict
    inactive = form(slug="inactive", is_active=False)
    no_template = due_sending(noon, form_=form(slug="ok"), template_code="missing")
    call = due_sending(noon, form_=no_template.form, channel="call")
    off = due_sending(noon, form_=inactive)
    assert sendings_send_due() == {}
    for sending in (draft, no_template, call, off):
        sending.refresh_from_db()
        assert (sending.state, sending.invited) == ("scheduled", 0)
    assert not FeedbackInvitation.objects.exists()
    assert not Message.objects.exists()
    with pytest.raises(ValidationError) as error:
        sending_send(sending_id=no_template.pk)
    assert "template_code" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        sending_send(sending_id=call.pk)
    assert "channel" in error.value.error_dict
    assert "could not be sent" in caplog.text


def test_invitation_send_sends_one_customer_one_link_once(noon, outbox_file):
    customer = consenting_customer(purposes=("service",))
    survey = form()
    first = invitation_send(
        form=survey,
        customer=customer,
        occasion="ticket:55",
        channel="sms",
        template_code="feedback_invitation",
    )
    again = invitation_send(
        form=survey,
        customer=customer,
        occasion="ticket:55",
        channel="sms",
        template_code="feedback_invitation",
    )
    assert again.pk == first.pk
    assert FeedbackInvitation.objects.count() == 1
    message = Message.objects.get()
    assert message.occasion == f"feedback:{survey.pk}:ticket:55"
    assert invitation_of_link(message.body).pk == first.pk
    assert message.expires_at == first.expires_at == noon + timedelta(days=30)
    outbox_dispatch()
    message.refresh_from_db()
    assert message.state == Message.State.SENT
    other = invitation_send(
        form=survey,
        customer=customer,
        occasion="ticket:56",
        channel="sms",
        template_code="feedback_invitation",
    )
    assert other.pk != first.pk
    assert Message.objects.count() == 2


def test_invitation_send_refuses_what_cannot_carry_a_link(noon):
    customer = CustomerFactory()
    inactive = form(slug="off", is_active=False)
    survey = form()
    cases = [
        ({"form": inactive, "channel": "sms"}, "form_inactive"),
        ({"form": survey, "channel": "call"}, "call_channel"),
    ]
    for arguments, code in cases:
        with pytest.raises(ValidationError) as error:
            invitation_send(
                customer=customer,
                occasion="ticket:1",
                template_code="feedback_invitation",
                **arguments,
            )
        assert error.value.code == code
    with pytest.raises(ValidationError):
        invitation_send(
            form=survey, customer=customer, occasion="ticket:1", channel="sms", template_code="x"
        )
    assert not FeedbackInvitation.objects.exists()
    assert not Message.objects.exists()


def test_a_tampered_link_opens_nothing(noon):
    invitation = invitation_send(
        form=form(),
        customer=CustomerFactory(),
        occasion="ticket:9",
        channel="sms",
        template_code="feedback_invitation",
    )
    token = links.invitation_token(invitation.pk)
    assert links.invitation_id_from_token(token) == invitation.pk
    with pytest.raises(links.InvalidToken):
        links.invitation_id_from_token(token.replace(f"{invitation.pk}:", f"{invitation.pk + 1}:"))


def test_templates_seed_is_idempotent_and_keeps_edits():
    assert feedback_templates_seed() == 12
    edited = MessageTemplate.objects.get(code="feedback_reminder", channel="sms", language="en")
    edited.body = "Edited {{ feedback_link }}"
    edited.save(update_fields=["body"])
    assert feedback_templates_seed() == 0
    assert MessageTemplate.objects.filter(code__startswith="feedback_").count() == 12
    edited.refresh_from_db()
    assert edited.body == "Edited {{ feedback_link }}"
    assert all(
        "{{ feedback_link }}" in body
        for body in MessageTemplate.objects.filter(
            code__in=["feedback_invitation", "feedback_reminder"]
        ).values_list("body", flat=True)
    )
