"""The transaction batch: all or nothing for invalid rows, idempotent for rows already stored."""

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.api.serializers import TransactionInputSerializer
from crm.models import Source, Transaction
from crm.services.transactions import transaction_batch_create
from tests.factories import CustomerFactory, SourceRecordFactory, TransactionFactory

BATCH = "/api/v1/transactions/batch/"


def row(customer, external_id: str, **fields) -> dict:
    return {
        "source": "shop",
        "external_id": external_id,
        "customer": customer.pk,
        "kind": "purchase",
        "amount": "128.50",
        "currency": "CNY",
        "category": "dining",
        "channel": "store",
        "payment_method": "wallet",
        "merchant": "海底捞 (人民广场店)",
        "occurred_at": "2026-03-01T19:30:00+08:00",
        **fields,
    }


def stored() -> list[tuple]:
    return list(Transaction.objects.order_by("pk").values_list("source", "external_id", "amount"))


@pytest.fixture
def customer(feeding_rm):
    return CustomerFactory(owner=feeding_rm)


@pytest.fixture
def client(api_client, feeding_rm):
    api_client.force_authenticate(feeding_rm)
    return api_client


# --- Stored --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_stores_every_row_and_answers_per_row_in_order(client, customer):
    rows = [row(customer, f"ORDER-{n}") for n in range(3)]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 201, response.content
    ids = dict(Transaction.objects.values_list("external_id", "pk"))
    assert response.json() == {
        "results": [
            {"index": n, "external_id": f"ORDER-{n}", "status": "created", "id": ids[f"ORDER-{n}"]}
            for n in range(3)
        ]
    }
    first = Transaction.objects.get(external_id="ORDER-0")
    assert (first.customer, first.amount, first.merchant, first.payment_method) == (
        customer,
        Decimal("128.50"),
        "海底捞 (人民广场店)",
        "wallet",
    )


@pytest.mark.django_db
def test_same_batch_twice_stores_it_once_and_says_exists_for_every_row(client, customer):
    batch = {"transactions": [row(customer, f"ORDER-{n}") for n in range(3)]}
    first = client.post(BATCH, batch, format="json")

    again = client.post(BATCH, batch, format="json")

    assert again.status_code == 200
    assert [result["status"] for result in again.json()["results"]] == ["exists"] * 3
    assert [result["id"] for result in again.json()["results"]] == [
        result["id"] for result in first.json()["results"]
    ]
    assert Transaction.objects.count() == 3


@pytest.mark.django_db
def test_rows_already_stored_are_left_unchanged_and_new_ones_stored(client, customer):
    old = TransactionFactory(customer=customer, source=Source.SHOP, external_id="ORDER-0")
    rows = [row(customer, "ORDER-0", amount="999.00"), row(customer, "ORDER-1")]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 201
    assert [(r["status"], r["external_id"]) for r in response.json()["results"]] == [
        ("exists", "ORDER-0"),
        ("created", "ORDER-1"),
    ]
    old.refresh_from_db()
    assert old.amount == Decimal("128.50")


@pytest.mark.django_db
def test_refund_of_an_earlier_row_in_the_same_batch(client, customer):
    rows = [
        row(customer, "ORDER-1", amount="300.00"),
        row(customer, "REFUND-1", kind="refund", amount="300.00", refund_of_external_id="ORDER-1"),
    ]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 201, response.content
    refund = Transaction.objects.get(external_id="REFUND-1")
    assert refund.refund_of == Transaction.objects.get(external_id="ORDER-1")
    assert response.json()["results"][1]["id"] == refund.pk


@pytest.mark.django_db
def test_refund_of_a_stored_transaction(client, customer):
    original = TransactionFactory(
        customer=customer, source=Source.SHOP, external_id="ORDER-1", amount=Decimal("300.00")
    )
    refund = row(customer, "REFUND-1", kind="refund", amount="50", refund_of_external_id="ORDER-1")

    response = client.post(BATCH, {"transactions": [refund]}, format="json")

    assert response.status_code == 201, response.content
    assert Transaction.objects.get(external_id="REFUND-1").refund_of == original


@pytest.mark.django_db
def test_customers_named_by_source_system_ids(client, customer, feeding_rm):
    other = CustomerFactory(owner=feeding_rm)
    SourceRecordFactory(customer=customer, source=Source.SHOP, external_id="M-1")
    SourceRecordFactory(customer=other, source=Source.CORE_BANKING, external_id="M-1")
    by_source = {"customer_source": "core_banking", "customer_external_id": "M-1"}
    rows = [row(customer, "ORDER-1"), {**row(customer, "ORDER-2"), **by_source}]
    del rows[1]["customer"]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 201, response.content
    assert dict(Transaction.objects.values_list("external_id", "customer")) == {
        "ORDER-1": customer.pk,
        "ORDER-2": other.pk,
    }


@pytest.mark.django_db
def test_batch_queries_do_not_grow_with_rows(token_client, system_user, django_assert_num_queries):
    client = token_client(system_user)
    customers = CustomerFactory.create_batch(5)

    def batch(prefix: str, size: int) -> dict:
        rows = [row(customers[n % 5], f"{prefix}-{n}") for n in range(size)]
        # The last row refunds the first: the second insert is in both batches.
        rows[-1].update(
            customer=customers[0].pk,
            kind="refund",
            amount="1.00",
            refund_of_external_id=f"{prefix}-0",
        )
        return {"transactions": rows}

    def expected(size: int) -> int:
        # The token with its user, the user's other tokens, the user's and their groups'
        # permissions; in a savepoint: the customers, the stored keys, the first insert, the
        # ids it made, the refunds' insert, all the new ids; then the points' earning pass
        # (loyalty, on crm.signals.transactions_stored): without earning rules, its savepoint,
        # the rules and the refunds to reverse.
        queries = 4 + 2 + 6 + 4
        if connection.vendor == "sqlite":
            # Django splits an INSERT to stay under SQLite's 999 variables, 13 a row.
            queries += math.ceil((size - 1) / (999 // 13)) - 1
        return queries

    with django_assert_num_queries(expected(5)):
        assert client.post(BATCH, batch("A", 5), format="json").status_code == 201
    with django_assert_num_queries(expected(500)):
        assert client.post(BATCH, batch("B", 500), format="json").status_code == 201
    assert Transaction.objects.count() == 505


# --- Refused --------------------------------------------------------------------------------


BAD_ROWS = {
    "missing amount": ({"amount": None}, "amount"),
    "amount not a number": ({"amount": "abc"}, "amount"),
    "negative amount": ({"amount": "-5"}, "amount"),
    "three decimal places": ({"amount": "1.234"}, "amount"),
    "thirteen integer digits": ({"amount": "1234567890123"}, "amount"),
    "currency not accepted": ({"currency": "XYZ"}, "currency"),
    "unknown kind": ({"kind": "gift"}, "kind"),
    "time not a time": ({"occurred_at": "yesterday"}, "occurred_at"),
    "no customer": ({"customer": None}, "customer"),
    "unknown customer": ({"customer": 999_999}, "customer"),
    "unknown customer by source": (
        {"customer": None, "customer_source": "pos", "customer_external_id": "NOBODY"},
        "customer_external_id",
    ),
    "half a source reference": (
        {"customer": None, "customer_source": "pos"},
        "customer_external_id",
    ),
    "field that cannot be set": ({"id": 5}, "id"),
    "refund without original": ({"kind": "refund"}, "refund_of_external_id"),
    "unknown refund original": (
        {"kind": "refund", "refund_of_external_id": "NO-SUCH-ORDER"},
        "refund_of_external_id",
    ),
    "refund of a later row": (
        {"kind": "refund", "refund_of_external_id": "ORDER-2"},
        "refund_of_external_id",
    ),
    "refund larger than original": (
        {"kind": "refund", "amount": "128.51", "refund_of_external_id": "ORDER-0"},
        "amount",
    ),
    "refund in another currency": (
        {"kind": "refund", "currency": "USD", "refund_of_external_id": "ORDER-0"},
        "currency",
    ),
    "original only for refunds": ({"refund_of_external_id": "ORDER-0"}, "refund_of_external_id"),
    "external id twice in the batch": ({"external_id": "ORDER-0"}, "external_id"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_one_bad_row_refuses_the_whole_batch_naming_row_and_field(client, customer, change, field):
    already = TransactionFactory(customer=customer, external_id="STORED-1")
    bad = row(customer, "ORDER-1")
    bad.update(change)
    bad = {name: value for name, value in bad.items() if value is not None}
    rows = [row(customer, "ORDER-0"), bad, row(customer, "ORDER-2")]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["rows"]
    (error,) = response.json()["rows"]
    assert (error["index"], list(error["errors"])) == (1, [field])
    assert all(isinstance(reason, str) and reason for reason in error["errors"][field])
    assert stored() == [(already.source, "STORED-1", already.amount)]


@pytest.mark.django_db
def test_customer_of_another_rm_is_refused_like_an_unknown_one(client, customer, other_rm):
    theirs = CustomerFactory(owner=other_rm)
    rows = [row(customer, "ORDER-0"), row(theirs, "ORDER-1")]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "rows": [{"index": 1, "errors": {"customer": ["No customer you may see has this id."]}}]
    }
    assert stored() == []


@pytest.mark.django_db
def test_every_bad_row_is_reported(client, customer):
    rows = [
        row(customer, "ORDER-0", amount="abc"),
        row(customer, "ORDER-1"),
        row(customer, "ORDER-2", currency="XYZ", merchant="x" * 201),
    ]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 400
    assert [(error["index"], sorted(error["errors"])) for error in response.json()["rows"]] == [
        (0, ["amount"]),
        (2, ["currency", "merchant"]),
    ]
    assert stored() == []


@pytest.mark.django_db
def test_row_that_is_not_an_object_is_reported_with_its_index(client, customer):
    response = client.post(
        BATCH, {"transactions": [row(customer, "ORDER-0"), "ORDER-1"]}, format="json"
    )

    assert response.status_code == 400
    (error,) = response.json()["rows"]
    assert (error["index"], list(error["errors"])) == (1, ["non_field_errors"])
    assert stored() == []


@pytest.mark.django_db
def test_more_than_1000_rows_is_refused_before_any_row_is_read(client, customer):
    rows = [row(customer, f"ORDER-{n}") for n in range(1001)]

    with CaptureQueriesContext(connection) as queries:
        response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 400
    assert not [query for query in queries if "crm_transaction" in query["sql"]]
    assert response.json() == {
        "transactions": ["A batch holds at most 1000 transactions; this one has 1001."]
    }
    assert stored() == []


@pytest.mark.django_db
def test_exactly_1000_rows_are_accepted(client, customer):
    rows = [row(customer, f"ORDER-{n}") for n in range(1000)]

    response = client.post(BATCH, {"transactions": rows}, format="json")

    assert response.status_code == 201
    assert Transaction.objects.count() == 1000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{}, {"transactions": []}, {"transactions": {"a": 1}}, {"transactions": [], "dry_run": True}],
)
def test_batch_without_a_list_of_rows_is_refused(client, body):
    response = client.post(BATCH, body, format="json")

    assert response.status_code == 400
    assert "transactions" in response.json()


@pytest.mark.django_db(transaction=True)
def test_two_identical_batches_at_once_store_each_row_once(system_user):
    customer = CustomerFactory()
    raw = [row(customer, f"ORDER-{n}") for n in range(50)]
    raw.append(row(customer, "REFUND-0", kind="refund", refund_of_external_id="ORDER-0"))
    rows = TransactionInputSerializer(many=True, data=raw)
    rows.is_valid(raise_exception=True)
    barrier = threading.Barrier(2)

    def send():
        barrier.wait()
        try:
            actor = type(system_user).objects.get(pk=system_user.pk)
            return transaction_batch_create(actor=actor, rows=rows.validated_data)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda _: send(), range(2))

    assert Transaction.objects.count() == 51
    for one, other in zip(first, second, strict=True):
        assert {one.status, other.status} == {"created", "exists"}
        assert one.id == other.id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "stored_amount"),
    [("0.01", "0.01"), (12, "12.00"), (99.9, "99.90"), ("999999999999.99", "999999999999.99")],
)
def test_amount_as_string_or_number(client, customer, amount, stored_amount):
    response = client.post(
        BATCH, {"transactions": [row(customer, "ORDER-1", amount=amount)]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Transaction.objects.get().amount == Decimal(stored_amount)
