"""The customer list and the single customer view, as an RM or a supervisor uses them."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Customer
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    PreferenceFactory,
    TransactionFactory,
)

CHANGELIST = reverse("admin:crm_customer_changelist")


def change_url(customer: Customer) -> str:
    return reverse("admin:crm_customer_change", args=[customer.pk])


def _changelist_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_rows(client, supervisor, rm, team):
    CustomerFactory.create_batch(5, owner=rm)
    with_five = _changelist_queries(client, supervisor)
    CustomerFactory.create_batch(45, owner=rm)
    with_fifty = _changelist_queries(client, supervisor)
    assert with_five == with_fifty


@pytest.mark.django_db
def test_changelist_masks_phone_and_email(client, rm):
    CustomerFactory(owner=rm, phone="+8613800138000", email="zhang.wei@example.com")
    client.force_login(rm)
    page = client.get(CHANGELIST).content.decode()
    assert "138****8000" in page
    assert "13800138000" not in page
    assert "z***@example.com" in page
    assert "zhang.wei@example.com" not in page


@pytest.mark.django_db
def test_rm_lists_only_own_customers(client, rm, other_rm):
    mine = CustomerFactory(owner=rm, name="我的客户")
    theirs = CustomerFactory(owner=other_rm, name="别人的客户")
    client.force_login(rm)
    page = client.get(CHANGELIST).content.decode()
    assert mine.name in page
    assert theirs.name not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    ["admin:crm_customer_change", "admin:crm_customer_history", "admin:crm_customer_delete"],
)
def test_rm_opening_another_rms_customer_by_url_gets_404(client, rm, other_rm, url_name):
    theirs = CustomerFactory(owner=other_rm)
    client.force_login(rm)
    assert client.get(reverse(url_name, args=[theirs.pk])).status_code == 404


@pytest.mark.django_db
def test_rm_cannot_change_another_rms_customer_by_post(client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm, name="原名")
    client.force_login(rm)
    response = client.post(change_url(theirs), {"name": "改名"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "原名"


@pytest.mark.django_db
def test_rm_cannot_open_another_rms_customer_history_version(client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm)
    version = theirs.history.first()
    client.force_login(rm)
    url = reverse("admin:crm_customer_simple_history", args=[theirs.pk, version.history_id])
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_rm_cannot_find_another_rms_customer_through_autocomplete_or_search(client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm, phone="+8613900139000")
    client.force_login(rm)
    page = client.get(CHANGELIST, {"q": "13900139000"}).content.decode()
    assert theirs.name not in page
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "crm",
            "model_name": "interaction",
            "field_name": "customer",
            "term": theirs.name,
        },
    )
    assert theirs.name not in autocomplete.content.decode()


@pytest.mark.django_db
def test_supervisor_sees_exactly_their_team(client, supervisor, rm, other_rm, foreign_rm):
    team_customers = [CustomerFactory(owner=rm), CustomerFactory(owner=other_rm)]
    foreign = CustomerFactory(owner=foreign_rm)
    client.force_login(supervisor)
    response = client.get(CHANGELIST)
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {c.pk for c in team_customers}
    assert client.get(change_url(foreign)).status_code == 404


@pytest.mark.django_db
def test_staff_with_global_permission_sees_everyone(client, rm, foreign_rm):
    CustomerFactory(owner=rm)
    CustomerFactory(owner=foreign_rm)
    head = rm.__class__.objects.create_user("head_office", is_staff=True)
    head.user_permissions.add(
        Permission.objects.get(codename="view_all_customers"),
        Permission.objects.get(codename="view_customer"),
    )
    client.force_login(head)
    assert client.get(CHANGELIST).context["cl"].result_count == 2


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["+86 138-0013-8000", "13800138000", "138 0013 8000"])
def test_search_finds_a_customer_by_phone_however_it_is_typed(client, rm, typed):
    wanted = CustomerFactory(owner=rm, phone="+8613800138000")
    CustomerFactory(owner=rm, phone="+8613800138001")
    client.force_login(rm)
    result = client.get(CHANGELIST, {"q": typed}).context["cl"].result_list
    assert [c.pk for c in result] == [wanted.pk]


@pytest.mark.django_db
def test_search_by_name_email_and_external_id(client, rm):
    from tests.factories import SourceRecordFactory

    wanted = CustomerFactory(owner=rm, name="欧阳娜娜", email="nana@example.com")
    SourceRecordFactory(customer=wanted, external_id="CB-778899")
    CustomerFactory(owner=rm, name="李雷")
    client.force_login(rm)
    for term in ["欧阳", "NANA@example.com", "CB-778899"]:
        result = client.get(CHANGELIST, {"q": term}).context["cl"].result_list
        assert [c.pk for c in result] == [wanted.pk], term


@pytest.mark.django_db
def test_changelist_count_is_capped(client, rm, settings):
    settings.CRM_ADMIN_COUNT_LIMIT = 3
    CustomerFactory.create_batch(5, owner=rm)
    client.force_login(rm)
    response = client.get(CHANGELIST)
    assert response.context["cl"].result_count == 3
    assert "More than 3" in response.content.decode()


@pytest.mark.django_db
def test_customer_page_is_the_single_customer_view(client, rm):
    customer = CustomerFactory(owner=rm)
    PreferenceFactory(customer=customer, text="枕头：记忆棉")
    TransactionFactory(customer=customer, merchant="海底捞")
    InteractionFactory(customer=customer, summary="网点面谈：咨询理财")
    client.force_login(rm)
    page = client.get(change_url(customer)).content.decode()
    preference_at = page.index("枕头：记忆棉")
    assert preference_at < page.index('name="name"'), "preferences come before the profile"
    assert "海底捞" in page
    assert "网点面谈：咨询理财" in page


def _change_page_queries(client, user, customer) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(change_url(customer)).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_customer_page_query_count_does_not_grow_with_history(client, rm):
    customer = CustomerFactory(owner=rm)
    TransactionFactory.create_batch(5, customer=customer)
    InteractionFactory.create_batch(5, customer=customer)
    with_five = _change_page_queries(client, rm, customer)
    TransactionFactory.create_batch(45, customer=customer)
    InteractionFactory.create_batch(45, customer=customer)
    with_fifty = _change_page_queries(client, rm, customer)
    assert with_five == with_fifty


@pytest.mark.django_db
def test_customer_page_shows_whole_phone_only_to_those_allowed(client, rm):
    customer = CustomerFactory(owner=rm, phone="+8613800138000")
    client.force_login(rm)
    assert "13800138000" in client.get(change_url(customer)).content.decode().replace(" ", "")

    rm.groups.clear()
    rm.user_permissions.add(
        Permission.objects.get(codename="view_customer"),
        Permission.objects.get(codename="change_customer"),
    )
    rm = rm.__class__.objects.get(pk=rm.pk)  # drop the cached permissions
    client.force_login(rm)
    page = client.get(change_url(customer)).content.decode()
    assert "138****8000" in page
    assert "13800138000" not in page.replace(" ", "")


@pytest.mark.django_db
def test_rm_cannot_give_a_customer_to_another_rm(client, rm, other_rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)
    page = client.get(change_url(customer))
    form = page.context["adminform"].form
    data = {**{k: v for k, v in form.initial.items() if v is not None}}
    data.update(_inline_management_data(page))
    data["owner"] = other_rm.pk
    data["team"] = customer.team_id
    data["birth_date"] = "1988-05-17"
    data["phone"] = "+8613800138000"
    response = client.post(change_url(customer), data)
    assert response.status_code == 200  # the form again, with the error
    customer.refresh_from_db()
    assert customer.owner == rm


def _inline_management_data(response) -> dict:
    data = {}
    for formset in response.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return data


@pytest.mark.django_db
def test_changing_a_customer_is_kept_in_history_with_who_did_it(client, rm):
    customer = CustomerFactory(owner=rm, name="旧名字")
    client.force_login(rm)
    page = client.get(change_url(customer))
    data = {
        "kind": customer.kind,
        "name": "新名字",
        "phone": "+8613800138000",
        "email": customer.email,
        "birth_date": "1988-05-17",
        "status": customer.status,
        "owner": rm.pk,
        "team": customer.team_id,
        **_inline_management_data(page),
    }
    response = client.post(change_url(customer), data)
    assert response.status_code == 302
    latest = customer.history.first()
    assert latest.name == "新名字"
    assert latest.history_user == rm
    history_page = client.get(reverse("admin:crm_customer_history", args=[customer.pk]))
    assert "新名字" in history_page.content.decode()


@pytest.mark.django_db
def test_admin_switches_to_chinese(client, rm):
    client.force_login(rm)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": CHANGELIST})
    page = client.get(CHANGELIST).content.decode()
    assert "客户" in page


@pytest.mark.django_db
def test_team_filter_offers_only_the_supervisors_teams(client, supervisor, team, other_team):
    client.force_login(supervisor)
    page = client.get(CHANGELIST).content.decode()
    assert f"team__id__exact={team.pk}" in page
    assert f"team__id__exact={other_team.pk}" not in page


@pytest.mark.django_db
def test_changelist_offers_no_facet_counts(client, rm):
    client.force_login(rm)
    page = client.get(CHANGELIST, {"_facets": "1"}).content.decode()
    assert "Show counts" not in page
    assert "Hide counts" not in page
