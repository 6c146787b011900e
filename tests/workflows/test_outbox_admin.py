"""The outbox in admin: scoped lists, masked recipients, call tasks, the refusals report and
the customer's Messages panel."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.panels import _panels
from tests.factories import CustomerFactory, UserFactory
from tests.workflows.factories import call_task, message, refused
from workflows.models import Message, SensitiveEvent
from workflows.models.outbox import Channel

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:workflows_message_changelist")
REFUSALS = reverse("admin:workflows_message_refusals")


def change_url(pk):
    return reverse("admin:workflows_message_change", args=[pk])


def test_an_rm_sees_only_their_customers_messages(client, rm, foreign_rm):
    mine = message(CustomerFactory(owner=rm))
    theirs = message(CustomerFactory(owner=foreign_rm))
    client.force_login(rm)

    response = client.get(CHANGELIST)

    assert [row.pk for row in response.context["cl"].result_list] == [mine.pk]
    assert client.get(change_url(mine.pk)).status_code == 200
    assert client.get(change_url(theirs.pk)).status_code == 404


def test_a_supervisor_sees_the_teams_messages(client, rm, supervisor, foreign_rm):
    ours = message(CustomerFactory(owner=rm))
    message(CustomerFactory(owner=foreign_rm))
    client.force_login(supervisor)
    assert [row.pk for row in client.get(CHANGELIST).context["cl"].result_list] == [ours.pk]


def test_a_message_is_never_edited_by_hand(client, rm):
    mine = message(CustomerFactory(owner=rm), body="Hello")
    client.force_login(rm)
    response = client.post(change_url(mine.pk), {"body": "changed"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.body == "Hello"


def test_the_recipient_is_masked_without_the_contact_permission(client, rm):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(content_type__app_label="workflows", codename="view_message")
    )
    customer = CustomerFactory(owner=viewer, phone="+8613800138000")
    shown = message(customer, recipient="+8613800138000")
    client.force_login(viewer)

    page = client.get(CHANGELIST).content.decode()
    detail = client.get(change_url(shown.pk)).content.decode()

    assert "138****8000" in page
    assert "13800138000" not in page
    assert "138****8000" in detail
    assert "13800138000" not in detail


def test_the_recipient_is_shown_to_those_who_see_contacts(client, rm):
    message(CustomerFactory(owner=rm), recipient="+8613800138000")
    client.force_login(rm)  # the RM role may see their customers' contacts
    assert "+8613800138000" in client.get(CHANGELIST).content.decode()


def test_filters_by_state_and_refusal_and_search_by_customer_id(client, rm):
    customer, other = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    capped = refused(customer, Message.Refusal.FREQUENCY_CAP)
    refused(customer, Message.Refusal.STUDENT)
    message(other)
    client.force_login(rm)

    by_reason = client.get(
        CHANGELIST, {"state__exact": "refused", "refusal__exact": "frequency_cap"}
    )
    by_customer = client.get(CHANGELIST, {"q": str(other.pk)})

    assert [row.pk for row in by_reason.context["cl"].result_list] == [capped.pk]
    assert {row.customer_id for row in by_customer.context["cl"].result_list} == {other.pk}
    assert not client.get(CHANGELIST, {"q": "name"}).context["cl"].result_list


def _changelist_queries(client, user, params=None) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CHANGELIST, params or {}).status_code == 200
    return len(captured)


def test_the_list_query_count_does_not_grow_with_rows(client, rm, django_assert_num_queries):
    def add(count):
        for customer in CustomerFactory.create_batch(count, owner=rm):
            message(customer)
            call_task(customer, rm)

    add(2)
    with_two = _changelist_queries(client, rm)
    add(10)
    client.force_login(rm)
    with django_assert_num_queries(with_two):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 24


def test_the_rm_call_tasks_and_done_once(client, rm, other_rm, foreign_rm):
    customer = CustomerFactory(owner=rm)
    mine = call_task(customer, rm)
    later = call_task(customer, rm, not_before=timezone.now() + timedelta(days=2))
    colleagues = call_task(CustomerFactory(owner=other_rm), other_rm)
    message(customer)  # an SMS is no call task
    client.force_login(rm)

    listed = client.get(CHANGELIST, {"call_tasks": "open"}).context["cl"].result_list
    assert [row.pk for row in listed] == [mine.pk]

    done = {"action": "mark_call_done", "_selected_action": [mine.pk, colleagues.pk]}
    client.post(CHANGELIST + "?call_tasks=open", done)
    mine.refresh_from_db()
    first_done = mine.completed_at
    assert first_done is not None
    colleagues.refresh_from_db()
    assert colleagues.completed_at is None  # not the RM's own (and not visible)

    # Done again (a double click, a second tab): the first moment stays.
    client.post(CHANGELIST, {"action": "mark_call_done", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.completed_at == first_done
    assert not client.get(CHANGELIST, {"call_tasks": "open"}).context["cl"].result_list
    later.refresh_from_db()
    assert later.completed_at is None


def test_a_supervisor_lists_the_teams_call_tasks(client, rm, other_rm, supervisor, foreign_rm):
    ours = {call_task(CustomerFactory(owner=user), user).pk for user in (rm, other_rm)}
    call_task(CustomerFactory(owner=foreign_rm), foreign_rm)
    client.force_login(supervisor)
    listed = client.get(CHANGELIST, {"call_tasks": "open"}).context["cl"].result_list
    assert {row.pk for row in listed} == ours


def test_the_refusals_report_counts_by_reason_and_channel(client, rm, supervisor, foreign_rm):
    customer = CustomerFactory(owner=rm)
    for _ in range(3):
        refused(customer, Message.Refusal.NO_CONSENT)
    refused(customer, Message.Refusal.NO_CONSENT, channel=Channel.EMAIL)
    refused(customer, Message.Refusal.SUPPRESSED)
    refused(customer, Message.Refusal.SUPPRESSED, created_at=timezone.now() - timedelta(days=90))
    refused(CustomerFactory(owner=foreign_rm), Message.Refusal.STUDENT)
    message(customer)
    client.force_login(supervisor)

    response = client.get(REFUSALS)

    assert response.status_code == 200
    counts = {
        (str(row["refusal"]), str(row["channel"]), row["count"]) for row in response.context["rows"]
    }
    assert counts == {
        (str(Message.Refusal.NO_CONSENT.label), "SMS", 3),
        (str(Message.Refusal.NO_CONSENT.label), str(Channel.EMAIL.label), 1),
        (str(Message.Refusal.SUPPRESSED.label), "SMS", 1),
    }
    link = next(row["url"] for row in response.context["rows"] if row["count"] == 3)
    listed = client.get(link).context["cl"].result_list
    assert len(listed) == 3


def test_the_refusals_report_is_for_supervisors(client, rm):
    client.force_login(rm)
    assert client.get(REFUSALS).status_code == 403


def test_the_refusals_report_refuses_a_reversed_range(client, supervisor):
    client.force_login(supervisor)
    response = client.get(REFUSALS, {"first": "2026-03-10", "last": "2026-03-01"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["rows"] == []


def test_the_messages_panel_is_bounded(rm, django_assert_num_queries):
    customer = CustomerFactory(owner=rm)
    for _ in range(15):
        refused(customer)
    SensitiveEvent.objects.create(
        customer=customer,
        kind="bereavement",
        occurred_on=timezone.localdate(),
        suppressed_until=timezone.localdate() + timedelta(days=90),
    )

    class Request:
        user = rm

    rm.has_perm("workflows.view_message")  # the permission cache, as in a request
    with django_assert_num_queries(2):
        context = _panels["workflows_messages"].get_context(customer, Request())
    assert len(context["messages"]) == 10
    assert context["suppression"].kind == "bereavement"


def test_the_customer_page_shows_the_messages_panel(client, rm):
    customer = CustomerFactory(owner=rm)
    refused(customer, Message.Refusal.STUDENT)
    client.force_login(rm)
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert str(Message.Refusal.STUDENT.label) in page
