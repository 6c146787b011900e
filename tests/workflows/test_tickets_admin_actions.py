"""Ticket admin actions that go through tk-core's services (workflows.tickets.services):
the bulk actions "assign to" and "change status", the status buttons, notes and attachments.

These pass once the ticket services are merged (they are imported when an action runs)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import CustomerFactory
from tests.workflows.tickets_admin_data import agent, ticket
from workflows.models import Ticket, TicketAttachment, TicketNote

pytestmark = pytest.mark.django_db
LIST = reverse("admin:workflows_ticket_changelist")


def statuses(*tickets) -> list[str]:
    return [Ticket.objects.get(pk=t.pk).status for t in tickets]


def test_bulk_status_change_refuses_per_ticket_and_changes_the_others(client, rm):
    customer = CustomerFactory(owner=rm)
    open_one = ticket(customer, status=Ticket.Status.OPEN)
    new_one = ticket(customer, status=Ticket.Status.NEW)
    closed = ticket(customer, status=Ticket.Status.CLOSED)
    client.force_login(rm)
    selected = [open_one.pk, new_one.pk, closed.pk]

    page = client.post(LIST, {"action": "change_status_selected", "_selected_action": selected})
    assert page.status_code == 200
    assert 'name="to_status"' in page.content.decode()

    response = client.post(
        LIST,
        {
            "action": "change_status_selected",
            "_selected_action": selected,
            "confirm": "yes",
            "to_status": Ticket.Status.WAITING,
            "note": "Asked for the card's last four digits.",
        },
        follow=True,
    )

    assert statuses(open_one, new_one, closed) == ["waiting", "waiting", "closed"]
    said = [str(message) for message in response.context["messages"]]
    assert any(message.startswith(f"#{closed.pk} not changed: ") for message in said)
    assert "2 ticket(s) changed." in said


def test_bulk_assign_through_an_intermediate_form(client, supervisor, rm, other_rm):
    profile = agent(other_rm)
    customer = CustomerFactory(owner=rm)
    first, second = ticket(customer), ticket(customer, assignee=rm)
    client.force_login(supervisor)
    selected = [first.pk, second.pk]

    page = client.post(LIST, {"action": "assign_selected", "_selected_action": selected})
    assert f'value="{other_rm.pk}"' in page.content.decode()

    client.post(
        LIST,
        {
            "action": "assign_selected",
            "_selected_action": selected,
            "confirm": "yes",
            "assignee": profile.user_id,
        },
    )
    assert set(Ticket.objects.filter(pk__in=selected).values_list("assignee_id", flat=True)) == {
        other_rm.pk
    }


def test_status_button_changes_through_the_state_machine(client, rm):
    item = ticket(CustomerFactory(owner=rm), status=Ticket.Status.OPEN)
    client.force_login(rm)
    url = reverse("admin:workflows_ticket_transition", args=[item.pk])

    response = client.post(url, {"to_status": Ticket.Status.RESOLVED}, follow=True)

    assert statuses(item) == ["resolved"]
    assert response.redirect_chain[-1][0] == reverse(
        "admin:workflows_ticket_change", args=[item.pk]
    )


def test_invalid_transition_is_refused_with_a_clear_message(client, rm):
    item = ticket(CustomerFactory(owner=rm), status=Ticket.Status.CLOSED)
    client.force_login(rm)
    url = reverse("admin:workflows_ticket_transition", args=[item.pk])

    response = client.post(url, {"to_status": Ticket.Status.WAITING}, follow=True)

    assert statuses(item) == ["closed"]
    said = [str(message) for message in response.context["messages"]]
    assert len(said) == 1
    assert said[0].strip()


def test_another_rms_ticket_cannot_be_changed(client, rm, other_rm):
    item = ticket(CustomerFactory(owner=other_rm), status=Ticket.Status.OPEN)
    client.force_login(rm)
    url = reverse("admin:workflows_ticket_transition", args=[item.pk])
    assert client.post(url, {"to_status": "resolved"}).status_code == 404
    assert statuses(item) == ["open"]


def test_note_and_reply_are_added_through_the_service(client, rm):
    item = ticket(CustomerFactory(owner=rm))
    client.force_login(rm)
    url = reverse("admin:workflows_ticket_note", args=[item.pk])

    client.post(url, {"kind": "internal", "body": "Customer prefers a call after 18:00."})
    client.post(url, {"kind": "reply", "body": "您的新卡已寄出。"})

    assert list(TicketNote.objects.filter(ticket=item).values_list("kind", "body")) == [
        ("internal", "Customer prefers a call after 18:00."),
        ("reply", "您的新卡已寄出。"),
    ]
    page = client.get(reverse("admin:workflows_ticket_change", args=[item.pk]))
    assert "您的新卡已寄出。" in page.content.decode()


def test_attachment_upload_goes_through_the_service_and_bad_files_are_refused(
    client, rm, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    item = ticket(CustomerFactory(owner=rm))
    client.force_login(rm)
    url = reverse("admin:workflows_ticket_attach", args=[item.pk])

    client.post(
        url, {"file": SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    )
    refused = client.post(
        url,
        {"file": SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/x-msdownload")},
        follow=True,
    )

    assert list(TicketAttachment.objects.filter(ticket=item).values_list("name", flat=True)) == [
        "scan.pdf"
    ]
    assert [str(m) for m in refused.context["messages"]]
