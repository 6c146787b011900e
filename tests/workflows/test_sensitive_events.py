"""Sensitive events: recorded by the customer's RM, marketing suppressed for the kind's days."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory
from workflows.models import SensitiveEvent
from workflows.services.events import (
    SensitiveEventInvalid,
    active_suppression,
    sensitive_event_record,
)
from workflows.suppression import suppression_days

pytestmark = pytest.mark.django_db
ADD = reverse("admin:workflows_sensitiveevent_add")
CHANGELIST = reverse("admin:workflows_sensitiveevent_changelist")


def test_the_suppression_defaults_to_the_kinds_days(rm):
    customer = CustomerFactory(owner=rm)
    day = date(2026, 3, 1)

    event = sensitive_event_record(
        actor=rm, customer=customer, kind="bereavement", occurred_on=day, note=" funeral "
    )

    assert event.suppressed_until == day + timedelta(days=90)
    assert (event.recorded_by, event.note) == (rm, "funeral")


def test_the_setting_gives_each_kind_its_days_and_others_the_other_kinds(settings):
    settings.WORKFLOWS_SUPPRESSION_DAYS = {"bereavement": 120, "other": 20}
    assert suppression_days("bereavement") == 120
    assert suppression_days("illness") == 20


def test_an_rm_cannot_record_for_another_rms_customer(rm, foreign_rm):
    customer = CustomerFactory(owner=foreign_rm)
    with pytest.raises(SensitiveEventInvalid):
        sensitive_event_record(
            actor=rm, customer=customer, kind="illness", occurred_on=timezone.localdate()
        )
    assert not SensitiveEvent.objects.exists()


def test_bad_input_changes_nothing(rm):
    customer = CustomerFactory(owner=rm)
    today = timezone.localdate()
    for kind, day, until in (
        ("nope", today, None),
        ("illness", today + timedelta(days=1), None),
        ("illness", today, today - timedelta(days=1)),
    ):
        with pytest.raises(SensitiveEventInvalid):
            sensitive_event_record(
                actor=rm, customer=customer, kind=kind, occurred_on=day, suppressed_until=until
            )
    assert not SensitiveEvent.objects.exists()


def test_the_suppression_is_active_through_its_last_day(rm):
    customer = CustomerFactory(owner=rm)
    event = sensitive_event_record(
        actor=rm, customer=customer, kind="divorce", occurred_on=date(2026, 1, 1)
    )
    last = event.suppressed_until
    assert active_suppression(customer_id=customer.pk, today=last) == event
    assert active_suppression(customer_id=customer.pk, today=last + timedelta(days=1)) is None


def test_an_rm_records_an_event_in_admin(client, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)
    day = timezone.localdate() - timedelta(days=3)

    response = client.post(
        ADD,
        {
            "customer": customer.pk,
            "kind": "unemployment",
            "occurred_on": day.isoformat(),
            "note": "",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = SensitiveEvent.objects.get()
    assert (event.customer, event.recorded_by) == (customer, rm)
    assert event.suppressed_until == day + timedelta(days=90)


def test_the_admin_refuses_another_rms_customer_and_a_future_day(client, rm, foreign_rm):
    client.force_login(rm)
    theirs = CustomerFactory(owner=foreign_rm)
    mine = CustomerFactory(owner=rm)
    tomorrow = timezone.localdate() + timedelta(days=1)
    for customer, day in ((theirs, timezone.localdate()), (mine, tomorrow)):
        response = client.post(
            ADD, {"customer": customer.pk, "kind": "illness", "occurred_on": day.isoformat()}
        )
        assert response.status_code == 200
    assert not SensitiveEvent.objects.exists()


def test_the_list_is_scoped(client, rm, foreign_rm):
    mine = sensitive_event_record(
        actor=rm, customer=CustomerFactory(owner=rm), kind="other", occurred_on=date(2026, 1, 1)
    )
    theirs = sensitive_event_record(
        actor=foreign_rm,
        customer=CustomerFactory(owner=foreign_rm),
        kind="other",
        occurred_on=date(2026, 1, 1),
    )
    client.force_login(rm)
    assert [row.pk for row in client.get(CHANGELIST).context["cl"].result_list] == [mine.pk]
    url = reverse("admin:workflows_sensitiveevent_change", args=[theirs.pk])
    assert client.get(url).status_code == 404
