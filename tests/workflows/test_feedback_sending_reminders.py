"""Reminders, once: an unanswered, unexpired invitation gets one reminder on its link's channel
after WORKFLOWS_FEEDBACK_REMINDER_DAYS, however often the task runs; care steps with a form
carry personal links too."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CustomerFactory, TransactionFactory
from tests.workflows.conftest import consenting_customer
from tests.workflows.feedback_sending import due_sending, form, invitation_of_link
from workflows.feedback.reminders import invitations_remind
from workflows.feedback.sending import sendings_send_due
from workflows.models import (
    CareSequence,
    CareStep,
    Enrollment,
    FeedbackInvitation,
    Message,
    MessageTemplate,
)
from workflows.models.sequences import TriggerKind
from workflows.outbox.dispatch import outbox_dispatch
from workflows.sequences.advance import enrollments_advance
from workflows.sequences.triggers import sequences_enrol
from workflows.tasks import feedback_reminders_task

pytestmark = pytest.mark.django_db


def _reminders():
    return Message.objects.filter(occasion__startswith="feedback-reminder:")


def _sent_sending(noon, customers, **fields):
    sending = due_sending(noon, **fields)
    sendings_send_due()
    outbox_dispatch()
    assert Message.objects.filter(state="sent").count() == len(customers)
    return sending


def test_each_unanswered_invitation_is_reminded_once_however_often_the_task_runs(
    noon, outbox_file, time_machine
):
    customers = [consenting_customer(purposes=("service",)) for _ in range(3)]
    sending = _sent_sending(noon, customers)
    answered = customers[0]
    FeedbackInvitation.objects.filter(customer=answered).update(
        answered_at=noon + timedelta(days=1)
    )
    time_machine.move_to(noon + timedelta(days=2), tick=False)
    assert feedback_reminders_task.apply().get() == 0  # not yet 3 days
    for hours in (0, 1, 30):
        time_machine.move_to(noon + timedelta(days=3, hours=hours), tick=False)
        feedback_reminders_task.apply().get()
        outbox_dispatch()
    reminders = list(_reminders())
    assert sorted(m.customer_id for m in reminders) == sorted(c.pk for c in customers[1:])
    for reminder in reminders:
        assert reminder.state == Message.State.SENT
        assert reminder.channel == "sms"
        assert reminder.purpose == "service"
        assert reminder.occasion == f"feedback-reminder:{sending.form_id}:sending:{sending.pk}"
        assert reminder.template.code == "feedback_reminder"
        assert "a reminder" in reminder.body
        invitation = invitation_of_link(reminder.body)
        assert invitation.customer_id == reminder.customer_id
        assert invitation.reminded_at == noon + timedelta(days=3)
        assert reminder.expires_at == invitation.expires_at
    assert FeedbackInvitation.objects.get(customer=answered).reminded_at is None
    # Each reminder once in what went out, too.
    lines = outbox_file.read_text().splitlines()
    assert len([line for line in lines if "a reminder" in line]) == 2


def test_expired_and_never_delivered_invitations_get_no_reminder(noon, outbox_file, time_machine):
    delivered = consenting_customer(purposes=("service",))
    refused = CustomerFactory()  # no consent: the link never reached them
    short = form(slug="short", link_valid_days=2)
    _sent_sending(noon, [delivered], form_=short)
    time_machine.move_to(noon + timedelta(days=4), tick=False)
    assert invitations_remind() == 0
    assert not _reminders().exists()
    assert not FeedbackInvitation.objects.filter(reminded_at__isnull=False).exists()
    FeedbackInvitation.objects.update(expires_at=noon + timedelta(days=30))
    assert invitations_remind() == 1
    assert list(_reminders().values_list("customer_id", flat=True)) == [delivered.pk]
    # The refused one is marked all the same, so it is not looked at every hour.
    assert FeedbackInvitation.objects.get(customer=refused).reminded_at == noon + timedelta(days=4)
    assert invitations_remind() == 0


def test_a_channel_without_reminder_template_waits_until_one_exists(
    noon, outbox_file, time_machine, caplog
):
    MessageTemplate.objects.create(
        code="survey-mail", channel="email", language="en", body="{{ feedback_link }}"
    )
    customer = consenting_customer(channels=("email",), purposes=("service",))
    _sent_sending(noon, [customer], channel="email", template_code="survey-mail")
    MessageTemplate.objects.filter(code="feedback_reminder", channel="email").delete()
    time_machine.move_to(noon + timedelta(days=4), tick=False)
    assert invitations_remind() == 0
    assert "wait" in caplog.text
    assert FeedbackInvitation.objects.get().reminded_at is None
    MessageTemplate.objects.create(
        code="feedback_reminder",
        channel="email",
        language="en",
        subject="Reminder",
        body="Still time: {{ feedback_link }}",
    )
    assert invitations_remind() == 1
    assert _reminders().get().channel == "email"
    assert invitations_remind() == 0


def test_reminders_are_set_based(noon, outbox_file, time_machine):
    customers = [consenting_customer(purposes=("service",)) for _ in range(3)]
    _sent_sending(noon, customers)
    time_machine.move_to(noon + timedelta(days=4), tick=False)
    with CaptureQueriesContext(connection) as few:
        assert invitations_remind() == 3
    for _ in range(12):
        consenting_customer(purposes=("service",))
    time_machine.move_to(noon + timedelta(days=5), tick=False)
    due_sending(noon + timedelta(days=5), form_=form(slug="second"))
    sendings_send_due()
    outbox_dispatch()
    time_machine.move_to(noon + timedelta(days=9), tick=False)
    with CaptureQueriesContext(connection) as many:
        assert invitations_remind() == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def _sequence_with_form(survey, *, channel="sms", template_code="feedback_invitation"):
    sequence = CareSequence.objects.create(
        name="after a purchase",
        trigger=TriggerKind.PURCHASE_IN_CATEGORY,
        parameters={"category": "mother_and_baby"},
    )
    step = CareStep(
        sequence=sequence,
        order=1,
        delay_days=0,
        channel=channel,
        template_code=template_code,
        purpose="service",
        feedback_form=survey,
    )
    step.full_clean()
    step.save()
    return sequence, step


def test_a_care_step_with_a_form_sends_each_enrollment_its_own_link_once(
    noon, outbox_file, time_machine
):
    survey = form()
    sequence, step = _sequence_with_form(survey)
    customers = [consenting_customer(purposes=("service",)) for _ in range(3)]
    for customer in customers:
        TransactionFactory(customer=customer, category="mother_and_baby")
    sequences_enrol()
    for _run in range(2):
        enrollments_advance()
        outbox_dispatch()
    messages = list(Message.objects.all())
    assert len(messages) == 3
    assert FeedbackInvitation.objects.count() == 3
    for message in messages:
        assert message.state == Message.State.SENT
        invitation = invitation_of_link(message.body)
        enrollment = Enrollment.objects.get(customer_id=message.customer_id)
        assert invitation.customer_id == message.customer_id
        assert invitation.form_id == survey.pk
        assert (
            invitation.occasion
            == message.occasion
            == f"sequence:{sequence.pk}:enrollment:{enrollment.pk}:step:1"
        )
    # Reminded once, on the step's channel.
    for days in (4, 5):
        time_machine.move_to(noon + timedelta(days=days), tick=False)
        invitations_remind()
        outbox_dispatch()
    reminders = list(_reminders())
    assert sorted(r.customer_id for r in reminders) == sorted(c.pk for c in customers)
    assert all(r.state == "sent" and r.channel == "sms" for r in reminders)
    assert all(invitation_of_link(r.body).customer_id == r.customer_id for r in reminders)


def test_care_step_queries_with_a_form_do_not_grow_with_enrollments(noon):
    survey = form()
    _sequence_with_form(survey)

    def advance_queries(customers: int) -> int:
        for _ in range(customers):
            TransactionFactory(customer=CustomerFactory(), category="mother_and_baby")
        sequences_enrol()
        with CaptureQueriesContext(connection) as queries:
            result = enrollments_advance()
        assert result.enqueued == customers
        return len(queries.captured_queries)

    assert advance_queries(3) == advance_queries(20)
    assert FeedbackInvitation.objects.count() == 23


def test_a_care_step_form_must_be_active_published_and_not_a_call(noon):
    survey = form()
    inactive = form(slug="off", is_active=False)
    unpublished = form(slug="draft")
    unpublished.current_version = None
    unpublished.save(update_fields=["current_version"])
    MessageTemplate.objects.create(code="call-me", channel="call", language="en", body="Call")
    sequence = CareSequence.objects.create(
        name="x", trigger=TriggerKind.PURCHASE_IN_CATEGORY, parameters={"category": "travel"}
    )
    for feedback_form, channel, template_code in [
        (inactive, "sms", "feedback_invitation"),
        (unpublished, "sms", "feedback_invitation"),
        (survey, "call", "call-me"),
    ]:
        step = CareStep(
            sequence=sequence,
            order=1,
            delay_days=0,
            channel=channel,
            template_code=template_code,
            feedback_form=feedback_form,
        )
        with pytest.raises(ValidationError) as error:
            step.full_clean()
        assert "feedback_form" in error.value.error_dict


def test_a_step_whose_form_was_deactivated_since_is_not_sent(noon, caplog):
    survey = form()
    _sequence_with_form(survey)
    TransactionFactory(customer=CustomerFactory(), category="mother_and_baby")
    sequences_enrol()
    survey.is_active = False
    survey.save(update_fields=["is_active"])
    assert enrollments_advance().enqueued == 0
    assert not Message.objects.exists()
    assert not FeedbackInvitation.objects.exists()
    assert Enrollment.objects.get().next_step == 1
    assert "not sent" in caplog.text
