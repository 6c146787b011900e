"""The customers API: who sees which customer, masked contacts, filters, writes via services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Consent, Customer
from tests.crm.api.conftest import grant
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    SourceRecordFactory,
    TagFactory,
    UserFactory,
)

CUSTOMERS = "/api/v1/customers/"


def detail(customer) -> str:
    return f"{CUSTOMERS}{customer.pk}/"


def listed_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Who sees what --------------------------------------------------------------------------


@pytest.mark.django_db
def test_rm_lists_only_own_customers(api_client, rm, other_rm):
    own = CustomerFactory.create_batch(2, owner=rm)
    CustomerFactory(owner=other_rm)
    api_client.force_authenticate(rm)

    response = api_client.get(CUSTOMERS)

    assert listed_ids(response) == {customer.pk for customer in own}


@pytest.mark.django_db
def test_rm_gets_404_for_another_rms_customer_by_id(api_client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm, name="张三")
    api_client.force_authenticate(rm)

    read = api_client.get(detail(theirs))
    write = api_client.patch(detail(theirs), {"name": "李四"}, format="json")

    assert (read.status_code, write.status_code) == (404, 404)
    theirs.refresh_from_db()
    assert theirs.name == "张三"


@pytest.mark.django_db
def test_reading_a_customer_is_in_the_access_log_and_a_404_is_not(api_client, rm, other_rm):
    from crm.privacy.models import CustomerAccessLog

    own, theirs = CustomerFactory(owner=rm), CustomerFactory(owner=other_rm)
    api_client.force_authenticate(rm)

    assert api_client.get(detail(own)).status_code == 200
    assert api_client.get(detail(theirs)).status_code == 404

    logged = CustomerAccessLog.objects.values_list("user_id", "customer_id", "action")
    assert list(logged) == [(rm.pk, own.pk, "api_read")]


@pytest.mark.django_db
def test_rm_filtering_by_another_rms_id_finds_nothing(api_client, rm, other_rm):
    CustomerFactory(owner=other_rm)
    api_client.force_authenticate(rm)

    response = api_client.get(CUSTOMERS, {"owner": other_rm.pk})

    assert listed_ids(response) == set()


@pytest.mark.django_db
def test_supervisor_sees_exactly_their_team(api_client, supervisor, rm, other_rm, foreign_rm):
    team_customers = [CustomerFactory(owner=rm), CustomerFactory(owner=other_rm)]
    CustomerFactory(owner=foreign_rm)
    api_client.force_authenticate(supervisor)

    response = api_client.get(CUSTOMERS)

    assert listed_ids(response) == {customer.pk for customer in team_customers}


@pytest.mark.django_db
def test_user_allowed_to_see_all_customers_sees_every_team(api_client, rm, foreign_rm):
    customers = [CustomerFactory(owner=rm), CustomerFactory(owner=foreign_rm), CustomerFactory()]
    viewer = UserFactory()
    grant(viewer, "view_all_customers")
    api_client.force_authenticate(viewer)

    response = api_client.get(CUSTOMERS)

    assert listed_ids(response) == {customer.pk for customer in customers}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", CUSTOMERS),
        ("get", f"{CUSTOMERS}1/"),
        ("post", CUSTOMERS),
        ("patch", f"{CUSTOMERS}1/"),
        ("get", "/api/v1/transactions/"),
        ("post", "/api/v1/transactions/"),
        ("post", "/api/v1/transactions/batch/"),
    ],
)
def test_unauthenticated_request_gets_401(api_client, method, path):
    response = getattr(api_client, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_list_is_newest_first_and_pages_by_cursor(api_client, rm):
    now = timezone.now()
    customers = [
        CustomerFactory(owner=rm, created_at=now - timedelta(days=days)) for days in range(3)
    ]
    api_client.force_authenticate(rm)

    first = api_client.get(CUSTOMERS, {"page_size": 2}).json()
    second = api_client.get(first["next"]).json()

    assert [row["id"] for row in first["results"] + second["results"]] == [
        customer.pk for customer in customers
    ]
    assert second["next"] is None


# --- Masked contacts ------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_and_detail_mask_contacts_for_users_who_may_not_see_them(api_client, system_user):
    customer = CustomerFactory(phone="+8613800138000", email="zhang.wei@example.com")
    api_client.force_authenticate(system_user)

    listed = api_client.get(CUSTOMERS).json()["results"][0]
    shown = api_client.get(detail(customer)).json()

    for row in (listed, shown):
        assert (row["phone"], row["email"]) == ("138****8000", "z***@example.com")


@pytest.mark.django_db
def test_rm_sees_own_customers_contacts_whole(api_client, rm):
    customer = CustomerFactory(owner=rm, phone="+8613800138000", email="zhang.wei@example.com")
    api_client.force_authenticate(rm)

    listed = api_client.get(CUSTOMERS).json()["results"][0]
    shown = api_client.get(detail(customer)).json()

    for row in (listed, shown):
        assert (row["phone"], row["email"]) == ("+8613800138000", "zhang.wei@example.com")


# --- Filters and search ---------------------------------------------------------------------


@pytest.mark.django_db
def test_filters_by_status_kind_student_owner_and_team(api_client, supervisor, rm, other_rm, team):
    active = CustomerFactory(owner=rm, is_student=True)
    closed = CustomerFactory(owner=rm, status=Customer.Status.CLOSED)
    business = CustomerFactory(owner=other_rm, kind=Customer.Kind.BUSINESS)
    api_client.force_authenticate(supervisor)

    def ids(**params) -> set[int]:
        return listed_ids(api_client.get(CUSTOMERS, params))

    assert ids(status="closed") == {closed.pk}
    assert ids(kind="business") == {business.pk}
    assert ids(is_student="true") == {active.pk}
    assert ids(owner=rm.pk) == {active.pk, closed.pk}
    assert ids(team=team.pk) == {active.pk, closed.pk, business.pk}


@pytest.mark.django_db
def test_filters_by_tag_and_marketing_consent(api_client, rm):
    tagged, consenting, withdrawn = CustomerFactory.create_batch(3, owner=rm)
    tag = TagFactory()
    tag.customers.add(tagged)
    ConsentFactory(customer=consenting, channel=Consent.Channel.SMS, is_granted=True)
    ConsentFactory(customer=withdrawn, channel=Consent.Channel.SMS, is_granted=False)
    ConsentFactory(
        customer=withdrawn,
        channel=Consent.Channel.EMAIL,
        purpose=Consent.Purpose.SERVICE,
        is_granted=True,
    )
    api_client.force_authenticate(rm)

    assert listed_ids(api_client.get(CUSTOMERS, {"tag": tag.pk})) == {tagged.pk}
    assert listed_ids(api_client.get(CUSTOMERS, {"consent": "sms"})) == {consenting.pk}
    assert listed_ids(api_client.get(CUSTOMERS, {"consent": "email"})) == set()


@pytest.mark.django_db
def test_filters_by_creation_time(api_client, rm):
    now = timezone.now()
    old = CustomerFactory(owner=rm, created_at=now - timedelta(days=30))
    new = CustomerFactory(owner=rm, created_at=now - timedelta(days=1))
    api_client.force_authenticate(rm)
    cut = (now - timedelta(days=7)).isoformat()

    assert listed_ids(api_client.get(CUSTOMERS, {"created_after": cut})) == {new.pk}
    assert listed_ids(api_client.get(CUSTOMERS, {"created_before": cut})) == {old.pk}


@pytest.mark.django_db
def test_bad_filter_value_is_a_400_naming_the_filter(api_client, rm):
    api_client.force_authenticate(rm)

    response = api_client.get(CUSTOMERS, {"team": "abc", "status": "sleeping"})

    assert response.status_code == 400
    assert set(response.json()) == {"team", "status"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "term", ["Zhang.Wei@example.com", "+86 138-0013-8000", "13800138000", "小明", "CB-777"]
)
def test_search_finds_by_email_phone_name_or_external_id(api_client, rm, term):
    wanted = CustomerFactory(
        owner=rm, name="王小明", phone="+8613800138000", email="zhang.wei@example.com"
    )
    SourceRecordFactory(customer=wanted, external_id="CB-777")
    CustomerFactory(owner=rm, name="李雷")
    api_client.force_authenticate(rm)

    response = api_client.get(CUSTOMERS, {"search": term})

    assert listed_ids(response) == {wanted.pk}


@pytest.mark.django_db
def test_search_never_finds_another_rms_customer(api_client, rm, other_rm):
    CustomerFactory(owner=other_rm, email="zhang.wei@example.com")
    api_client.force_authenticate(rm)

    response = api_client.get(CUSTOMERS, {"search": "zhang.wei@example.com"})

    assert listed_ids(response) == set()


@pytest.mark.django_db
def test_list_queries_do_not_grow_with_rows(
    token_client, supervisor, rm, django_assert_num_queries
):
    client = token_client(supervisor)
    CustomerFactory.create_batch(5, owner=rm)
    # The token with its user, the user's other tokens (knox drops expired ones), the user's
    # and their groups' permissions, the supervised teams, whether the supervisor owns customers
    # outside them, the page of customers.
    with django_assert_num_queries(7):
        assert len(client.get(CUSTOMERS).json()["results"]) == 5

    CustomerFactory.create_batch(45, owner=rm)
    with django_assert_num_queries(7):
        assert len(client.get(CUSTOMERS).json()["results"]) == 50


# --- Create and update ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "phone", ["+86 138-0013-8000", "13800138000", "138 0013 8000", "+8613800138000"]
)
def test_rm_creates_a_customer_they_own_with_the_phone_in_e164(api_client, rm, team, phone):
    api_client.force_authenticate(rm)

    response = api_client.post(
        CUSTOMERS, {"name": "赵敏", "phone": phone, "email": "Zhao.Min@Example.com"}, format="json"
    )

    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert (customer.owner, customer.team) == (rm, team)
    assert (str(customer.phone), customer.email) == ("+8613800138000", "zhao.min@example.com")
    assert response.json()["phone"] == "+8613800138000"
    assert customer.history.first().history_user == rm


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["12345", "phone", "+86 138-0013-800"])
def test_bad_phone_is_a_400_naming_the_field(api_client, rm, phone):
    api_client.force_authenticate(rm)

    response = api_client.post(CUSTOMERS, {"name": "赵敏", "phone": phone}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["phone"]
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_create_refuses_fields_that_cannot_be_set(api_client, rm):
    api_client.force_authenticate(rm)

    response = api_client.post(
        CUSTOMERS,
        {"name": "赵敏", "id": 999, "created_at": "2020-01-01T00:00:00Z", "history": []},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"id", "created_at", "history"}
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_update_refuses_fields_that_cannot_be_set(api_client, rm):
    customer = CustomerFactory(owner=rm, name="赵敏")
    created_at = customer.created_at
    api_client.force_authenticate(rm)

    response = api_client.patch(
        detail(customer), {"name": "赵敏敏", "created_at": "2020-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["created_at"]
    customer.refresh_from_db()
    assert (customer.name, customer.created_at) == ("赵敏", created_at)


@pytest.mark.django_db
def test_rm_cannot_create_a_customer_for_another_rm(api_client, rm, other_rm):
    api_client.force_authenticate(rm)

    response = api_client.post(CUSTOMERS, {"name": "赵敏", "owner": other_rm.pk}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "owner": ["You cannot assign customers to this relationship manager."]
    }
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_rm_cannot_give_own_customer_to_another_rm_or_team(api_client, rm, other_rm, other_team):
    customer = CustomerFactory(owner=rm)
    api_client.force_authenticate(rm)

    to_rm = api_client.patch(detail(customer), {"owner": other_rm.pk}, format="json")
    to_team = api_client.patch(detail(customer), {"team": other_team.pk}, format="json")

    assert (to_rm.status_code, list(to_rm.json())) == (400, ["owner"])
    assert (to_team.status_code, list(to_team.json())) == (400, ["team"])
    customer.refresh_from_db()
    assert (customer.owner, customer.team) == (rm, rm.teams.get())


@pytest.mark.django_db
def test_supervisor_reassigns_a_customer_within_the_team(api_client, supervisor, rm, other_rm):
    customer = CustomerFactory(owner=rm)
    api_client.force_authenticate(supervisor)

    response = api_client.patch(detail(customer), {"owner": other_rm.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["owner"] == other_rm.pk
    customer.refresh_from_db()
    assert customer.owner == other_rm


@pytest.mark.django_db
def test_rm_updates_own_customer_and_history_keeps_who(api_client, rm):
    customer = CustomerFactory(owner=rm, name="赵敏")
    api_client.force_authenticate(rm)

    response = api_client.patch(
        detail(customer), {"name": "赵敏敏", "status": "dormant"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["status"]) == ("赵敏敏", "dormant")
    latest = customer.history.first()
    assert (latest.name, latest.history_user) == ("赵敏敏", rm)


@pytest.mark.django_db
def test_customer_is_not_marked_merged_through_the_api(api_client, rm):
    customer = CustomerFactory(owner=rm)
    api_client.force_authenticate(rm)

    response = api_client.patch(detail(customer), {"status": "merged"}, format="json")

    assert (response.status_code, list(response.json())) == (400, ["status"])


@pytest.mark.django_db
def test_user_without_add_permission_cannot_create(api_client):
    viewer = UserFactory()
    grant(viewer, "view_all_customers")
    api_client.force_authenticate(viewer)

    response = api_client.post(CUSTOMERS, {"name": "赵敏"}, format="json")

    assert response.status_code == 403
    assert not Customer.objects.exists()
