"""Staff access to a customer's page is logged: one INSERT per view, a list for supervisors,
recent accesses on the page, and a retention clean-up."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.models import Consent
from crm.privacy.models import CustomerAccessLog
from crm.privacy.services import access_logs_delete_expired
from crm.services.consents import consent_record
from crm.tasks import delete_expired_access_logs_task
from tests.crm.privacy.conftest import queries_of
from tests.factories import CustomerFactory

ACCESS_LIST = reverse("admin:crm_customeraccesslog_changelist")


def change_url(customer) -> str:
    return reverse("admin:crm_customer_change", args=[customer.pk])


@pytest.mark.django_db
def test_each_view_of_the_change_page_writes_one_row(client, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)

    writes: list[str] = []

    def record(execute, sql, params, many, context):
        if "accesslog" in sql.lower() and not sql.lstrip().upper().startswith("SELECT"):
            writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(change_url(customer))

    assert response.status_code == 200
    assert len(writes) == 1
    assert writes[0].lstrip().upper().startswith("INSERT")
    client.get(change_url(customer))
    rows = list(CustomerAccessLog.objects.values_list("user", "customer", "action"))
    assert rows == [(rm.pk, customer.pk, CustomerAccessLog.Action.VIEW)] * 2


@pytest.mark.django_db
def test_saving_the_page_is_not_a_view(client, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)

    client.post(change_url(customer), {"name": "x"})  # invalid form: no view logged either

    assert CustomerAccessLog.objects.count() == 0


@pytest.mark.django_db
def test_another_rms_customer_is_404_and_not_logged(client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm)
    client.force_login(rm)

    assert client.get(change_url(theirs)).status_code == 404
    assert CustomerAccessLog.objects.count() == 0


@pytest.mark.django_db
def test_supervisor_lists_accesses_of_the_teams_customers_filtered_by_user(
    client, supervisor, rm, other_rm, foreign_rm
):
    mine = CustomerFactory(owner=rm, name="本队客户")
    foreign = CustomerFactory(owner=foreign_rm, name="外队客户")
    CustomerAccessLog.objects.create(user=rm, customer=mine)
    CustomerAccessLog.objects.create(user=other_rm, customer=mine)
    CustomerAccessLog.objects.create(user=foreign_rm, customer=foreign)
    client.force_login(supervisor)

    page = client.get(ACCESS_LIST).content.decode()
    filtered = client.get(ACCESS_LIST, {"user": rm.pk}).content.decode()

    assert "本队客户" in page
    assert "外队客户" not in page
    assert page.count('class="field-action"') == 2
    assert filtered.count('class="field-action"') == 1
    assert "rm_li" in filtered


@pytest.mark.django_db
def test_access_list_filters_by_date(client, supervisor, rm):
    customer = CustomerFactory(owner=rm)
    CustomerAccessLog.objects.create(user=rm, customer=customer)
    CustomerAccessLog.objects.create(
        user=rm, customer=customer, at=timezone.now() - timedelta(days=40)
    )
    client.force_login(supervisor)

    today = client.get(
        ACCESS_LIST, {"at__gte": timezone.localtime().replace(hour=0, minute=0).isoformat()}
    )

    assert today.content.decode().count('class="field-action"') == 1


@pytest.mark.django_db
def test_rm_cannot_open_the_access_log(client, rm):
    client.force_login(rm)

    assert client.get(ACCESS_LIST).status_code == 403


@pytest.mark.django_db
def test_access_list_query_count_is_constant(client, supervisor, rm):
    customers = CustomerFactory.create_batch(3, owner=rm)

    def queries() -> int:
        client.force_login(supervisor)
        return queries_of(lambda: client.get(ACCESS_LIST))

    CustomerAccessLog.objects.create(user=rm, customer=customers[0])
    few = queries()
    CustomerAccessLog.objects.bulk_create(
        CustomerAccessLog(user=rm, customer=customers[n % 3]) for n in range(30)
    )
    assert queries() == few


@pytest.mark.django_db
def test_page_shows_recent_accesses_to_supervisors_only(client, supervisor, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)
    rm_page = client.get(change_url(customer)).content.decode()
    client.force_login(supervisor)
    supervisor_page = client.get(change_url(customer)).content.decode()

    assert "Recent accesses" not in rm_page
    assert "Recent accesses" in supervisor_page
    assert f"{ACCESS_LIST}?customer__id__exact={customer.pk}" in supervisor_page
    assert "rm_li" in supervisor_page  # the RM's earlier view


@pytest.mark.django_db
def test_change_page_query_count_does_not_grow_with_accesses_and_consents(client, supervisor, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(supervisor)
    client.get(change_url(customer))

    def queries() -> int:
        return queries_of(lambda: client.get(change_url(customer)))

    few = queries()
    for granted in (True, False, True, False):
        consent_record(
            actor=supervisor,
            customer=customer,
            channel=Consent.Channel.EMAIL,
            purpose=Consent.Purpose.MARKETING,
            is_granted=granted,
            evidence_channel=Consent.EvidenceChannel.WEB_FORM,
        )
    CustomerAccessLog.objects.bulk_create(
        CustomerAccessLog(user=rm, customer=customer) for _ in range(20)
    )
    # One more row of the consent inline's formset is rendered from the same queries.
    assert queries() == few


@pytest.mark.django_db
def test_retention_deletes_old_rows_in_one_statement(settings, rm, django_assert_num_queries):
    settings.CRM_ACCESS_LOG_RETENTION_DAYS = 30
    customer = CustomerFactory(owner=rm)
    old = timezone.now() - timedelta(days=31)
    CustomerAccessLog.objects.bulk_create(
        CustomerAccessLog(user=rm, customer=customer, at=old) for _ in range(5)
    )
    kept = CustomerAccessLog.objects.create(
        user=rm, customer=customer, at=timezone.now() - timedelta(days=29)
    )

    with django_assert_num_queries(1):
        deleted = access_logs_delete_expired()

    assert deleted == 5
    assert list(CustomerAccessLog.objects.all()) == [kept]
    assert delete_expired_access_logs_task() == 0  # a second run finds nothing


@pytest.mark.django_db
def test_retention_zero_keeps_everything(settings, rm):
    settings.CRM_ACCESS_LOG_RETENTION_DAYS = 0
    CustomerAccessLog.objects.create(
        user=rm, customer=CustomerFactory(owner=rm), at=timezone.now() - timedelta(days=3000)
    )

    assert access_logs_delete_expired() == 0
    assert CustomerAccessLog.objects.count() == 1
