"""The privacy requests' admin list: supervisors read their teams' requests; done ones are
read-only; RMs have no access."""

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.privacy.models import PrivacyRequest
from crm.privacy.services import customer_export_record
from tests.crm.privacy.conftest import queries_of
from tests.factories import CustomerFactory

LIST = reverse("admin:crm_privacyrequest_changelist")


def export_request(actor, customer, reference="Letter 1") -> PrivacyRequest:
    return customer_export_record(
        actor=actor, customer=customer, received_on=timezone.localdate(), reference=reference
    )


@pytest.mark.django_db
def test_supervisor_lists_the_teams_requests_only(client, supervisor, foreign_supervisor, rm):
    mine = CustomerFactory(owner=rm)
    export_request(supervisor, mine, reference="本队请求")
    export_request(foreign_supervisor, CustomerFactory(owner=foreign_supervisor), "外队请求")
    client.force_login(supervisor)

    page = client.get(LIST).content.decode()

    assert "本队请求" in page
    assert "外队请求" not in page


@pytest.mark.django_db
def test_a_done_request_is_read_only(client, supervisor, rm):
    request = export_request(supervisor, CustomerFactory(owner=rm), reference="原始")
    url = reverse("admin:crm_privacyrequest_change", args=[request.pk])
    client.force_login(supervisor)

    page = client.get(url).content.decode()
    client.post(url, {"reference": "改过", "received_on": "2026-01-01"})

    assert 'name="reference"' not in page
    request.refresh_from_db()
    assert request.reference == "原始"


@pytest.mark.django_db
def test_rm_cannot_open_the_requests(client, rm):
    client.force_login(rm)

    assert client.get(LIST).status_code == 403


@pytest.mark.django_db
def test_requests_list_query_count_is_constant(client, supervisor, rm):
    client.force_login(supervisor)
    export_request(supervisor, CustomerFactory(owner=rm))
    few = queries_of(lambda: client.get(LIST))
    for _ in range(10):
        export_request(supervisor, CustomerFactory(owner=rm))

    assert queries_of(lambda: client.get(LIST)) == few
