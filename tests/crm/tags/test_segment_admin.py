"""The segment admin: live sizes (capped, counted per user), the link to its customers, and a
clear error for a bad filter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Consent, Customer, Segment
from tests.factories import ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:crm_segment_changelist")
CUSTOMERS = reverse("admin:crm_customer_changelist")


def change_url(segment: Segment) -> str:
    return reverse("admin:crm_segment_change", args=[segment.pk])


def _list(client) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(captured), response


def sizes_shown(response) -> dict[str, object]:
    return {segment.name: segment.live_size for segment in response.context["cl"].result_list}


def test_list_shows_each_segments_live_size_for_the_user(client, supervisor, rm, foreign_rm):
    CustomerFactory.create_batch(3, owner=rm, status=Customer.Status.ACTIVE)
    CustomerFactory(owner=rm, status=Customer.Status.DORMANT)
    CustomerFactory(owner=foreign_rm, status=Customer.Status.ACTIVE)  # not the supervisor's
    Segment.objects.create(name="Active", definition={"status": "active"})
    Segment.objects.create(name="Everyone", definition={})
    Segment.objects.create(name="Broken", definition={"status": "sleepy"})
    client.force_login(supervisor)

    _queries, response = _list(client)

    # "Points expiring soon" is loyalty's ready segment (created on migrate): none of these.
    assert sizes_shown(response) == {
        "Active": 3,
        "Everyone": 4,
        "Broken": "invalid",
        "Points expiring soon": 0,
    }
    page = response.content.decode()
    assert "invalid filter" in page
    assert "Sizes are counted live for the segments on this page" in page


def test_list_query_count_depends_on_neither_customers_nor_segments(client, supervisor, rm):
    Segment.objects.create(name="Active", definition={"status": "active"})
    CustomerFactory.create_batch(2, owner=rm)
    client.force_login(supervisor)
    baseline, _response = _list(client)

    CustomerFactory.create_batch(30, owner=rm)
    Segment.objects.create(name="SMS", definition={"consent": "sms"})
    Segment.objects.create(name="Students", definition={"is_student": True})
    more, response = _list(client)

    assert baseline == more
    assert sizes_shown(response)["Active"] == 32


def test_sizes_past_the_limit_say_more_than(client, supervisor, rm, settings):
    settings.CRM_ADMIN_COUNT_LIMIT = 2
    CustomerFactory.create_batch(3, owner=rm)
    segment = Segment.objects.create(name="Everyone", definition={})
    client.force_login(supervisor)

    assert "more than 2" in client.get(CHANGELIST).content.decode()
    assert "more than 2" in client.get(change_url(segment)).content.decode()


def test_see_these_customers_opens_the_segments_customers(client, supervisor, rm):
    with_sms = CustomerFactory(owner=rm)
    ConsentFactory(customer=with_sms, channel=Consent.Channel.SMS)
    CustomerFactory(owner=rm)
    segment = Segment.objects.create(name="SMS", definition={"consent": "sms"})
    client.force_login(supervisor)

    page = client.get(change_url(segment)).content.decode()
    link = f"{CUSTOMERS}?segment={segment.pk}"
    shown = client.get(link).context["cl"].result_list

    assert link in page
    assert ">1<" in page  # its size
    assert [customer.pk for customer in shown] == [with_sms.pk]


def test_customer_list_by_segment_stays_within_what_the_user_may_see(client, rm, foreign_rm):
    mine = CustomerFactory(owner=rm)
    CustomerFactory(owner=foreign_rm)
    segment = Segment.objects.create(name="Everyone", definition={})
    client.force_login(rm)

    shown = client.get(CUSTOMERS, {"segment": segment.pk}).context["cl"].result_list

    assert [customer.pk for customer in shown] == [mine.pk]


def test_customer_list_by_an_unknown_or_broken_segment_is_empty(client, supervisor, rm):
    CustomerFactory(owner=rm)
    broken = Segment.objects.create(name="Broken", definition={"status": "sleepy"})
    client.force_login(supervisor)

    for value in (broken.pk, 999999, "x"):
        response = client.get(CUSTOMERS, {"segment": value})
        assert list(response.context["cl"].result_list) == []


def test_saving_a_bad_filter_shows_the_error_on_the_definition(client, supervisor):
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:crm_segment_add"),
        {"name": "Broken", "description": "", "definition": '{"spend_days": 30}'},
    )

    assert response.status_code == 200
    assert "definition" in response.context["adminform"].form.errors
    assert "spend_min" in response.content.decode()
    assert not Segment.objects.filter(name="Broken").exists()


def test_add_page_lists_the_filters_a_segment_can_use(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:crm_segment_add")).content.decode()
    for name in ("tag", "team", "consent", "spend_min", "active_within_days", "inactive_for_days"):
        assert f"<code>{name}</code>" in page
