"""Form sendings in admin: supervisors create and schedule them, see invited and answered
counts (constant queries per page) and send now; RMs have no access; the care step inline
shows the form."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from crm.models import Segment
from tests.factories import CustomerFactory
from tests.workflows.feedback_sending import due_sending, form
from workflows.apps import _ensure_schedules
from workflows.feedback.sending import sendings_send_due
from workflows.models import FeedbackInvitation, FeedbackSending

pytestmark = pytest.mark.django_db
SENDINGS = reverse("admin:workflows_feedbacksending_changelist")
ADD = reverse("admin:workflows_feedbacksending_add")


def _post(segment, survey, **fields):
    return {
        "form": survey.pk,
        "segment": segment.pk,
        "channel": "sms",
        "template_code": "feedback_invitation",
        "scheduled_at_0": "2026-06-11",
        "scheduled_at_1": "09:00:00",
        **fields,
    }


def test_a_supervisor_schedules_a_sending_and_bad_input_is_refused(client, supervisor, noon):
    survey = form()
    segment = Segment.objects.create(name="everyone", definition={})
    client.force_login(supervisor)
    page = client.get(ADD)
    assert page.status_code == 200
    channels = [value for value, _label in page.context["adminform"].form.fields["channel"].choices]
    assert "call" not in channels
    assert "sms" in channels
    for fields, error in [
        ({"template_code": "missing"}, "No active message template"),
        ({"channel": "call"}, "Select a valid choice"),
    ]:
        response = client.post(ADD, _post(segment, survey, **fields))
        assert response.status_code == 200
        assert error in response.content.decode()
    draft = form(slug="draft")
    draft.current_version = None
    draft.save(update_fields=["current_version"])
    response = client.post(ADD, _post(segment, draft))
    assert "not published yet" in response.content.decode()
    assert not FeedbackSending.objects.exists()
    response = client.post(ADD, _post(segment, survey))
    assert response.status_code == 302
    sending = FeedbackSending.objects.get()
    assert (sending.state, sending.created_by, sending.channel) == ("scheduled", supervisor, "sms")


def test_the_list_shows_invited_and_answered_in_constant_queries(client, supervisor, noon):
    client.force_login(supervisor)

    def list_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(SENDINGS)
        assert page.status_code == 200
        return len(queries.captured_queries), page.content.decode()

    CustomerFactory.create_batch(3)
    first = due_sending(noon)
    sendings_send_due()
    FeedbackInvitation.objects.filter(pk=FeedbackInvitation.objects.first().pk).update(
        answered_at=noon
    )
    few, content = list_queries()
    assert '<td class="field-invited">3</td>' in content
    assert '<td class="field-answered">1</td>' in content
    for _ in range(4):
        due_sending(noon, form_=first.form)
    sendings_send_due()
    many, content = list_queries()
    assert many == few
    assert content.count('<td class="field-answered">0</td>') == 4


def test_send_now_brings_a_scheduled_sending_forward_and_sent_ones_are_records(
    client, supervisor, noon, django_capture_on_commit_callbacks
):
    CustomerFactory.create_batch(2)
    later = due_sending(noon, scheduled_at=noon + timedelta(days=2))
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            SENDINGS, {"action": "send_now", "_selected_action": [later.pk]}, follow=True
        )
    assert response.status_code == 200
    assert len(callbacks) == 1
    later.refresh_from_db()
    assert later.scheduled_at == noon
    assert set(sendings_send_due()) == {later.pk}
    response = client.post(
        SENDINGS, {"action": "send_now", "_selected_action": [later.pk]}, follow=True
    )
    assert "already sent" in response.content.decode()
    change = reverse("admin:workflows_feedbacksending_change", args=[later.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    response = client.post(change, _post(later.segment, later.form, template_code="other"))
    assert response.status_code == 403
    later.refresh_from_db()
    assert later.template_code == "feedback_invitation"


def test_rms_do_not_see_sendings(client, rm):
    client.force_login(rm)
    assert client.get(SENDINGS).status_code == 403


def test_the_care_step_inline_shows_the_feedback_form(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:workflows_caresequence_add"))
    assert page.status_code == 200
    assert 'name="steps-0-feedback_form"' in page.content.decode()


def test_sending_and_reminder_schedules():
    _ensure_schedules(None)
    _ensure_schedules(None)
    send = PeriodicTask.objects.get(task="workflows.tasks.feedback_sendings_send_task")
    assert (send.crontab.minute, send.crontab.hour) == ("*", "*")
    remind = PeriodicTask.objects.get(task="workflows.tasks.feedback_reminders_task")
    assert (remind.crontab.minute, remind.crontab.hour) == ("23", "*")
