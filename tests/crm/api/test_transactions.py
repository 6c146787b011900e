"""The transactions list and the single create: scoped like customers, idempotent on the key."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Source, Transaction
from tests.factories import CustomerFactory, SourceRecordFactory, TransactionFactory

TRANSACTIONS = "/api/v1/transactions/"


def listed_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def purchase(customer, **fields) -> dict:
    return {
        "source": "shop",
        "external_id": "ORDER-1",
        "customer": customer.pk,
        "kind": "purchase",
        "amount": "128.50",
        "occurred_at": "2026-03-01T10:00:00+08:00",
        **fields,
    }


# --- List -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rm_lists_only_own_customers_transactions_newest_first(api_client, rm, other_rm):
    mine = CustomerFactory(owner=rm)
    now = timezone.now()
    older = TransactionFactory(customer=mine, occurred_at=now - timedelta(days=2))
    newer = TransactionFactory(customer=mine, occurred_at=now - timedelta(days=1))
    TransactionFactory(customer=CustomerFactory(owner=other_rm))
    api_client.force_authenticate(rm)

    response = api_client.get(TRANSACTIONS)

    assert listed_ids(response) == [newer.pk, older.pk]


@pytest.mark.django_db
def test_supervisor_lists_their_teams_transactions(api_client, supervisor, rm, foreign_rm):
    team_transaction = TransactionFactory(customer=CustomerFactory(owner=rm))
    TransactionFactory(customer=CustomerFactory(owner=foreign_rm))
    api_client.force_authenticate(supervisor)

    assert listed_ids(api_client.get(TRANSACTIONS)) == [team_transaction.pk]


@pytest.mark.django_db
def test_rm_filtering_by_another_rms_customer_finds_nothing(api_client, rm, other_rm):
    theirs = CustomerFactory(owner=other_rm)
    TransactionFactory(customer=theirs)
    api_client.force_authenticate(rm)

    assert listed_ids(api_client.get(TRANSACTIONS, {"customer": theirs.pk})) == []


@pytest.mark.django_db
def test_transaction_filters(api_client, rm):
    first, second = CustomerFactory.create_batch(2, owner=rm)
    march = datetime(2026, 3, 1, tzinfo=UTC)
    dining = TransactionFactory(customer=first, occurred_at=march)
    travel = TransactionFactory(
        customer=second,
        category=Transaction.Category.TRAVEL,
        source=Source.POS,
        occurred_at=march + timedelta(days=10),
    )
    refund = TransactionFactory(
        customer=first,
        kind=Transaction.Kind.REFUND,
        refund_of=dining,
        amount=Decimal("10.00"),
        occurred_at=march + timedelta(days=20),
    )
    api_client.force_authenticate(rm)

    def ids(**params) -> set[int]:
        return set(listed_ids(api_client.get(TRANSACTIONS, params)))

    assert ids(customer=first.pk) == {dining.pk, refund.pk}
    assert ids(kind="refund") == {refund.pk}
    assert ids(category="travel") == {travel.pk}
    assert ids(source="pos") == {travel.pk}
    assert ids(occurred_after="2026-03-05T00:00:00Z") == {travel.pk, refund.pk}
    assert ids(occurred_before="2026-03-05T00:00:00Z") == {dining.pk}


@pytest.mark.django_db
def test_transaction_list_queries_do_not_grow_with_rows(
    token_client, rm, django_assert_num_queries
):
    client = token_client(rm)
    customers = CustomerFactory.create_batch(5, owner=rm)
    for customer in customers:
        TransactionFactory(customer=customer)
    # The token with its user, the user's other tokens, the user's and their groups'
    # permissions, the supervised teams, the page of transactions.
    with django_assert_num_queries(6):
        assert len(client.get(TRANSACTIONS).json()["results"]) == 5

    for customer in customers:
        TransactionFactory.create_batch(9, customer=customer)
    with django_assert_num_queries(6):
        assert len(client.get(TRANSACTIONS).json()["results"]) == 50


# --- Create one -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_one_then_the_same_again_says_it_exists(api_client, feeding_rm):
    customer = CustomerFactory(owner=feeding_rm)
    api_client.force_authenticate(feeding_rm)

    first = api_client.post(TRANSACTIONS, purchase(customer), format="json")
    again = api_client.post(TRANSACTIONS, purchase(customer, amount="999.00"), format="json")

    assert first.status_code == 201, first.content
    stored = Transaction.objects.get()
    assert first.json() == {"external_id": "ORDER-1", "status": "created", "id": stored.pk}
    assert again.status_code == 200
    assert again.json() == {"external_id": "ORDER-1", "status": "exists", "id": stored.pk}
    assert (stored.customer, stored.amount, stored.currency) == (customer, Decimal("128.50"), "CNY")


@pytest.mark.django_db
def test_naive_time_is_read_in_shanghai_time(api_client, feeding_rm):
    customer = CustomerFactory(owner=feeding_rm)
    api_client.force_authenticate(feeding_rm)

    response = api_client.post(
        TRANSACTIONS, purchase(customer, occurred_at="2026-03-01T10:00:00"), format="json"
    )

    assert response.status_code == 201, response.content
    assert Transaction.objects.get().occurred_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_customer_named_by_source_system_id(api_client, feeding_rm):
    customer = CustomerFactory(owner=feeding_rm)
    SourceRecordFactory(customer=customer, source=Source.SHOP, external_id="MEMBER-9")
    SourceRecordFactory(source=Source.POS, external_id="MEMBER-9")  # someone else, elsewhere
    api_client.force_authenticate(feeding_rm)
    row = purchase(customer, customer_source="shop", customer_external_id="MEMBER-9")
    del row["customer"]

    response = api_client.post(TRANSACTIONS, row, format="json")

    assert response.status_code == 201, response.content
    assert Transaction.objects.get().customer == customer


@pytest.mark.django_db
def test_create_for_another_rms_customer_is_refused_like_an_unknown_one(
    api_client, feeding_rm, other_rm
):
    theirs = CustomerFactory(owner=other_rm)
    api_client.force_authenticate(feeding_rm)

    response = api_client.post(TRANSACTIONS, purchase(theirs), format="json")

    assert response.status_code == 400
    assert response.json() == {"customer": ["No customer you may see has this id."]}
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_create_with_a_bad_amount_names_the_field(api_client, feeding_rm):
    customer = CustomerFactory(owner=feeding_rm)
    api_client.force_authenticate(feeding_rm)

    response = api_client.post(TRANSACTIONS, purchase(customer, amount="0"), format="json")

    assert response.status_code == 400
    assert response.json() == {"amount": ["The amount must be greater than zero."]}


@pytest.mark.django_db
def test_rm_without_permission_to_add_transactions_gets_403(api_client, rm):
    customer = CustomerFactory(owner=rm)
    api_client.force_authenticate(rm)

    single = api_client.post(TRANSACTIONS, purchase(customer), format="json")
    batch = api_client.post(
        f"{TRANSACTIONS}batch/", {"transactions": [purchase(customer)]}, format="json"
    )

    assert (single.status_code, batch.status_code) == (403, 403)
    assert not Transaction.objects.exists()
