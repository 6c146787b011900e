"""The data quality page: its figures on a known dataset, scoped, at a constant query count."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer, DuplicatePair, ImportJob, Source
from crm.selectors_quality import data_quality_get
from tests.factories import CustomerFactory, InteractionFactory, TransactionFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:crm_data_quality")


def long_ago(days: int):
    return timezone.now() - timedelta(days=days)


def known_dataset(owner):
    """Eight customers of `owner`: 2 without phone, 3 without e-mail, 1 without both;
    created 2 years ago, of which 3 had activity in the last year (so 5 are stale)."""
    created = long_ago(730)
    customers = [
        CustomerFactory(owner=owner, phone="", email="", created_at=created),
        CustomerFactory(owner=owner, phone="", created_at=created),
        CustomerFactory(owner=owner, email="", created_at=created),
        CustomerFactory(owner=owner, email="", created_at=created),
        *CustomerFactory.create_batch(4, owner=owner, created_at=created),
    ]
    TransactionFactory(customer=customers[0], occurred_at=long_ago(10))
    InteractionFactory(customer=customers[1], occurred_at=long_ago(364))
    TransactionFactory(customer=customers[2], occurred_at=long_ago(5))
    InteractionFactory(customer=customers[2], occurred_at=long_ago(500))
    TransactionFactory(customer=customers[3], occurred_at=long_ago(400))  # stale
    return customers


def import_job(user, *, refused: int, name: str) -> ImportJob:
    return ImportJob.objects.create(
        source=Source.SHOP,
        kind=ImportJob.Kind.CUSTOMERS,
        file=f"imports/{name}.csv",  # a name only: nothing is read
        original_name=name,
        rows_read=100,
        rows_refused=refused,
        created_by=user,
    )


def test_figures_on_a_known_dataset(supervisor, rm, foreign_rm):
    customers = known_dataset(rm)
    CustomerFactory(owner=rm)  # created now: new, not stale
    CustomerFactory(owner=rm, status=Customer.Status.MERGED, phone="")  # not counted
    CustomerFactory(owner=foreign_rm, phone="", email="")  # another team's
    DuplicatePair.objects.create(customer=customers[0], other=customers[1], score=90)
    DuplicatePair.objects.create(
        customer=customers[2], other=customers[3], score=80, status="not_duplicate"
    )
    import_job(rm, refused=3, name="shop-2026-11")
    import_job(rm, refused=0, name="clean")
    import_job(foreign_rm, refused=5, name="other-team")

    figures = data_quality_get(user=supervisor, stale_days=365)

    assert figures.contact.customers == 9
    assert figures.contact.missing_phone == 2
    assert figures.contact.missing_email == 3
    assert figures.contact.missing_both == 1
    assert figures.stale == 5
    assert figures.open_duplicates == 1
    assert figures.imports_with_refused_rows == 1
    assert [job.original_name for job in figures.recent_refused_imports] == ["shop-2026-11"]


def test_stale_window_is_a_parameter(supervisor, rm):
    known_dataset(rm)

    assert data_quality_get(user=supervisor, stale_days=30).stale == 6
    assert data_quality_get(user=supervisor, stale_days=3000).stale == 0  # none that old


def test_supervisor_sees_the_page_with_its_figures(client, supervisor, rm):
    known_dataset(rm)
    import_job(rm, refused=3, name="shop-2026-11")
    client.force_login(supervisor)

    response = client.get(PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    assert "25.0%" in page  # 2 of 8 without a phone
    assert "62.5%" in page  # 5 of 8 stale
    assert "shop-2026-11" in page


def test_page_reads_the_stale_days_from_the_query(client, supervisor, rm):
    known_dataset(rm)
    client.force_login(supervisor)

    assert client.get(PAGE, {"days": 30}).context["stale_days"] == 30
    assert client.get(PAGE, {"days": "x"}).context["stale_days"] == 365
    assert client.get(PAGE, {"days": 0}).context["stale_days"] == 365


def test_page_query_count_does_not_depend_on_rows(client, supervisor, rm):
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as empty:
        assert client.get(PAGE).status_code == 200
    customers = known_dataset(rm)
    DuplicatePair.objects.create(customer=customers[0], other=customers[1], score=90)
    for index in range(3):
        import_job(rm, refused=index + 1, name=f"file-{index}")
    with CaptureQueriesContext(connection) as full:
        assert client.get(PAGE).status_code == 200

    assert len(empty) == len(full)


def test_rm_cannot_open_the_page(client, rm):
    client.force_login(rm)
    assert client.get(PAGE).status_code == 403


def test_staff_who_see_every_customer_can_open_it(client, rm, foreign_rm):
    known_dataset(rm)
    CustomerFactory(owner=foreign_rm)
    head_office = UserFactory(username="head_office")
    head_office.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "view_all_customers"])
    )
    client.force_login(head_office)

    response = client.get(PAGE)

    assert response.status_code == 200
    assert response.context["customers"] == 9


def test_index_links_the_page_for_supervisors_only(client, supervisor, rm):
    client.force_login(supervisor)
    assert PAGE in client.get(reverse("admin:index")).content.decode()
    client.force_login(rm)
    assert PAGE not in client.get(reverse("admin:index")).content.decode()
