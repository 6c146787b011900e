"""Customers with points expiring soon: loyalty's filter on crm's customer list and segments."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from crm.filters import CustomerFilter, register_customer_filter
from crm.models import Segment
from crm.selectors import segment_customer_list
from loyalty.models import PointsEntry
from loyalty.services.expiry import points_expire
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind
TODAY = "2026-03-01 10:00:00+08:00"


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(TODAY)


def earn(customer, points, expires_on, program=None):
    program = program or ProgramFactory(code="bank")
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    key = f"{customer.pk}-{expires_on}-{points}"
    credit(account=account, kind=Kind.EARN, points=points, key=key, expires_on=expires_on)
    return account


def selected(definition, user) -> set[int]:
    segment = Segment(name="s", definition=definition)
    segment.full_clean()
    return set(segment_customer_list(segment=segment, user=user).values_list("pk", flat=True))


def test_the_segment_holds_customers_with_open_points_expiring_within_the_days(rm):
    in_30, on_day_31, tonight, all_spent, nothing = CustomerFactory.create_batch(5, owner=rm)
    earn(in_30, 10, date(2026, 3, 31))
    earn(on_day_31, 10, date(2026, 4, 1))
    earn(tonight, 10, date(2026, 3, 1))  # due, tonight's run has not taken it yet
    spent = earn(all_spent, 10, date(2026, 3, 10))
    debit(account=spent, kind=Kind.REDEEM, points=10, key="spent")

    soon = {in_30.pk, tonight.pk}
    assert selected({"points_expiring_soon": True}, rm) == soon
    assert selected({"points_expiring_within_days": 30}, rm) == soon
    assert selected({"points_expiring_within_days": 31}, rm) == soon | {on_day_31.pk}
    assert selected({"points_expiring_soon": False}, rm) == {on_day_31.pk, all_spent.pk, nothing.pk}


def test_expired_points_leave_the_segment(rm):
    customer = CustomerFactory(owner=rm)
    earn(customer, 10, date(2026, 3, 1))

    points_expire(as_of=date(2026, 3, 1))

    assert selected({"points_expiring_soon": True}, rm) == set()


def test_the_setting_sets_what_soon_means(rm, settings):
    settings.LOYALTY_EXPIRING_SOON_DAYS = 7
    near, far = CustomerFactory.create_batch(2, owner=rm)
    earn(near, 10, date(2026, 3, 8))
    earn(far, 10, date(2026, 3, 9))

    assert selected({"points_expiring_soon": True}, rm) == {near.pk}


def test_a_customer_with_points_in_two_programs_is_selected_once(rm, django_assert_num_queries):
    customer = CustomerFactory(owner=rm)
    earn(customer, 10, date(2026, 3, 5), program=ProgramFactory(code="bank"))
    earn(customer, 10, date(2026, 3, 6), program=ProgramFactory(code="shop"))
    plain = Segment(name="plain", definition={"status": "active"})
    segment = Segment(name="s", definition={"points_expiring_soon": True, "status": "active"})
    list(segment_customer_list(segment=plain, user=rm))  # the user's permissions, cached
    with CaptureQueriesContext(connection) as baseline:
        list(segment_customer_list(segment=plain, user=rm).values_list("pk", flat=True))

    # The filter adds a subquery, not a query: the same number as without it.
    with django_assert_num_queries(len(baseline)):
        ids = list(segment_customer_list(segment=segment, user=rm).values_list("pk", flat=True))

    assert ids == [customer.pk]


def test_the_segment_keeps_to_the_customers_the_user_may_see(rm, foreign_rm):
    mine, theirs = CustomerFactory(owner=rm), CustomerFactory(owner=foreign_rm)
    earn(mine, 10, date(2026, 3, 5))
    earn(theirs, 10, date(2026, 3, 5))

    assert selected({"points_expiring_soon": True}, rm) == {mine.pk}


@pytest.mark.parametrize("days", [0, 3651, "soon"])
def test_a_bad_number_of_days_is_refused(days):
    with pytest.raises(ValidationError):
        Segment(name="s", definition={"points_expiring_within_days": days}).full_clean()


def test_the_api_customer_list_filters_by_points_expiring(rm):
    soon, later = CustomerFactory.create_batch(2, owner=rm)
    earn(soon, 10, date(2026, 3, 20))
    earn(later, 10, date(2026, 9, 1))
    api_client = APIClient()
    api_client.force_authenticate(rm)

    response = api_client.get("/api/v1/customers/", {"points_expiring_within_days": 30})

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["results"]] == [soon.pk]


def test_a_filter_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="exists already"):
        register_customer_filter("points_expiring_soon", CustomerFilter.base_filters["status"])


def test_the_ready_segment_exists_after_migrate_and_selects_them(supervisor, rm):
    soon, later = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    earn(soon, 80, date(2026, 3, 20))
    earn(later, 80, date(2026, 6, 1))

    segment = Segment.objects.get(name="Points expiring soon")

    assert set(
        segment_customer_list(segment=segment, user=supervisor).values_list("pk", flat=True)
    ) == {soon.pk}
