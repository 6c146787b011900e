"""Who sees which customers, masking, and search: the reads everything else relies on."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from crm.masking import mask_email, mask_phone
from crm.models import Customer, Transaction
from crm.selectors import customer_list, customer_search, phone_normalize, transaction_list
from tests.factories import CustomerFactory, TransactionFactory, UserFactory


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+8613800138000", "138****8000"), ("13912345678", "139****5678"), ("", ""), ("12", "**")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [("zhang.wei@example.com", "z***@example.com"), ("", ""), ("not-an-email", "")],
)
def test_mask_email(email, masked):
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("+86 138-0013-8000", "+8613800138000"),
        ("13800138000", "+8613800138000"),
        ("0086 138 0013 8000", "+8613800138000"),
        ("12345", None),
        ("王小明", None),
    ],
)
def test_phone_normalize(typed, e164):
    assert phone_normalize(typed) == e164


@pytest.mark.django_db
def test_rm_sees_own_customers_only(rm, other_rm):
    mine = CustomerFactory(owner=rm)
    CustomerFactory(owner=other_rm)
    assert list(customer_list(user=rm)) == [mine]


@pytest.mark.django_db
def test_supervisor_sees_their_team_not_another(supervisor, rm, foreign_rm):
    mine = CustomerFactory(owner=rm)
    CustomerFactory(owner=foreign_rm)
    assert list(customer_list(user=supervisor)) == [mine]


@pytest.mark.django_db
def test_global_permission_sees_all(rm, foreign_rm):
    CustomerFactory(owner=rm)
    CustomerFactory(owner=foreign_rm)
    head = UserFactory(username="head")
    head.user_permissions.add(Permission.objects.get(codename="view_all_customers"))
    assert customer_list(user=head).count() == 2


@pytest.mark.django_db
def test_inactive_and_anonymous_users_see_nothing(rm):
    CustomerFactory(owner=rm)
    rm.is_active = False
    assert customer_list(user=rm).count() == 0
    assert customer_list(user=AnonymousUser()).count() == 0


@pytest.mark.django_db
def test_related_rows_follow_the_customer_visibility(rm, other_rm):
    mine = TransactionFactory(customer=CustomerFactory(owner=rm))
    TransactionFactory(customer=CustomerFactory(owner=other_rm))
    assert list(transaction_list(user=rm)) == [mine]


@pytest.mark.django_db
def test_search_by_email_is_case_insensitive_because_emails_are_stored_lower_case():
    customer = CustomerFactory(email="Li.Na@Example.COM")
    customer.refresh_from_db()
    assert customer.email == "li.na@example.com"
    assert list(customer_search(Customer.objects.all(), " LI.NA@example.com ")) == [customer]


@pytest.mark.django_db
def test_blank_search_returns_everything():
    CustomerFactory.create_batch(2)
    assert customer_search(Customer.objects.all(), "  ").count() == 2


@pytest.mark.django_db
def test_transaction_refund_needs_its_original():
    from django.db import IntegrityError, transaction

    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TransactionFactory(customer=customer, kind=Transaction.Kind.REFUND, refund_of=None)


@pytest.mark.django_db
def test_transaction_external_id_is_unique_per_source():
    from django.db import IntegrityError, transaction

    TransactionFactory(source="shop", external_id="X1")
    TransactionFactory(source="pos", external_id="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        TransactionFactory(source="shop", external_id="X1")


@pytest.mark.django_db
def test_supervisor_sees_a_customer_they_own_outside_their_teams(supervisor, foreign_rm):
    outside = CustomerFactory(owner=supervisor, team=foreign_rm.teams.first())
    assert list(customer_list(user=supervisor)) == [outside]
