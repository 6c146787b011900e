"""The demo data generator: logins, a believable customer base, and idempotent reruns."""

from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, F

from crm import roles
from crm.models import (
    BalanceSnapshot,
    Consent,
    CreditEvent,
    Customer,
    CustomerTag,
    Interaction,
    Preference,
    ProductHolding,
    SourceRecord,
    Tag,
    Team,
    TeamMembership,
    Transaction,
)
from crm.services.demo_data import DEMO_PASSWORD, demo_data_generate

pytestmark = pytest.mark.django_db

COUNTED_MODELS = [
    Team,
    TeamMembership,
    Customer,
    SourceRecord,
    Consent,
    Transaction,
    BalanceSnapshot,
    ProductHolding,
    CreditEvent,
    Interaction,
    Preference,
    Tag,
    CustomerTag,
]


def generate(customers: int, seed: int = 7) -> str:
    out = StringIO()
    call_command("generate_demo_data", customers=customers, seed=seed, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in COUNTED_MODELS}
    counts["User"] = get_user_model().objects.count()
    return counts


def test_demo_logins_exist_with_their_roles():
    generate(50)

    first_team = Team.objects.order_by("pk").first()
    for username, group, role in [
        ("supervisor", roles.SUPERVISOR, TeamMembership.Role.SUPERVISOR),
        ("rm1", roles.RELATIONSHIP_MANAGER, TeamMembership.Role.RELATIONSHIP_MANAGER),
        ("rm2", roles.RELATIONSHIP_MANAGER, TeamMembership.Role.RELATIONSHIP_MANAGER),
    ]:
        user = get_user_model().objects.get(username=username)
        assert user.is_staff
        assert user.check_password(DEMO_PASSWORD)
        assert list(user.groups.values_list("name", flat=True)) == [group]
        assert TeamMembership.objects.get(user=user).team == first_team
        assert TeamMembership.objects.get(user=user).role == role


def test_other_staff_cannot_sign_in():
    generate(50)

    others = get_user_model().objects.exclude(username__in=["supervisor", "rm1", "rm2"])
    assert others.exists()
    assert not any(user.has_usable_password() for user in others)


def test_customers_come_with_their_data():
    output = generate(50)

    assert Customer.objects.count() == 50
    assert Team.objects.count() >= 2
    for model in [SourceRecord, Consent, Transaction, BalanceSnapshot, ProductHolding, Interaction]:
        assert model.objects.exists(), model.__name__
    assert "customers: 50 created" in output
    # Every customer has exactly one source record, and belongs to its RM's team.
    assert SourceRecord.objects.values("customer").distinct().count() == 50
    assert not Customer.objects.annotate(n=Count("source_records")).exclude(n=1).exists()
    memberships = dict(TeamMembership.objects.values_list("user_id", "team_id"))
    for owner_id, team_id in Customer.objects.values_list("owner_id", "team_id"):
        assert memberships[owner_id] == team_id
    owners = set(Customer.objects.values_list("owner__username", flat=True))
    assert {"rm1", "rm2"} <= owners
    # Balances: 92 days for each bank customer.
    bank_customers = SourceRecord.objects.filter(source="core_banking").count()
    assert BalanceSnapshot.objects.count() == 92 * bank_customers


def test_phone_numbers_are_unique_valid_chinese_mobiles():
    generate(50)

    phones = [str(p) for p in Customer.objects.exclude(phone="").values_list("phone", flat=True)]
    assert len(phones) == len(set(phones)) > 40
    for phone in phones:
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number)
        assert number.country_code == 86
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_refunds_return_an_earlier_purchase_of_the_same_customer():
    generate(50)

    refunds = Transaction.objects.filter(refund_of__isnull=False)
    assert refunds.exists()
    assert not refunds.exclude(customer=F("refund_of__customer")).exists()
    assert not refunds.exclude(kind=Transaction.Kind.REFUND).exists()
    assert not refunds.exclude(refund_of__kind=Transaction.Kind.PURCHASE).exists()
    assert not refunds.filter(amount__gt=F("refund_of__amount")).exists()
    assert not refunds.filter(occurred_at__lt=F("refund_of__occurred_at")).exists()
    assert not Transaction.objects.filter(
        kind=Transaction.Kind.REFUND, refund_of__isnull=True
    ).exists()


def test_running_again_with_the_same_count_adds_nothing():
    generate(50)
    before = row_counts()

    generate(50)

    assert row_counts() == before


def test_a_larger_count_adds_only_the_missing_customers():
    generate(50)
    first_fifty = dict(SourceRecord.objects.values_list("external_id", "customer__name"))

    generate(80)

    assert Customer.objects.count() == 80
    numbers = sorted(
        int(e[-7:]) for e in SourceRecord.objects.values_list("external_id", flat=True)
    )
    assert numbers == list(range(1, 81))
    still_there = dict(
        SourceRecord.objects.filter(external_id__in=first_fifty).values_list(
            "external_id", "customer__name"
        )
    )
    assert still_there == first_fifty
    external_ids = Transaction.objects.values_list("external_id", flat=True)
    assert len(external_ids) == len(set(external_ids))


def demo_numbers() -> list[int]:
    external_ids = SourceRecord.objects.values_list("external_id", flat=True)
    return sorted(int(external_id[-7:]) for external_id in external_ids)


def test_a_chunk_lost_in_the_middle_is_written_again():
    demo_data_generate(customers=60, chunk_size=20)
    lost_ids = [f"DEMO-{source}-{n:07d}" for n in range(21, 41) for source in ("CB", "SH")]
    lost = Customer.objects.filter(source_records__external_id__in=lost_ids)
    Transaction.objects.filter(customer__in=lost, refund_of__isnull=False).delete()
    Transaction.objects.filter(customer__in=lost).delete()
    lost.delete()
    assert len(demo_numbers()) == 40

    summary = demo_data_generate(customers=60, chunk_size=20)

    assert summary.created["customers"] == 20
    assert demo_numbers() == list(range(1, 61))


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_write_every_chunk_once():
    # On SQLite the chunks are written one after the other: the result must be the same.
    summary = demo_data_generate(customers=90, chunk_size=20, workers=2)

    assert summary.created["customers"] == 90
    assert demo_numbers() == list(range(1, 91))
    refunds = Transaction.objects.filter(refund_of__isnull=False)
    assert not refunds.exclude(customer=F("refund_of__customer")).exists()
