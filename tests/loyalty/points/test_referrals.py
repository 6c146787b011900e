"""Referral commissions: once, on the first qualifying purchase, at the referrer's tier rate."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from loyalty.models import PointsEntry, Referral
from loyalty.services.referrals import referral_record
from tests.factories import CustomerFactory
from tests.loyalty.factories import member
from tests.loyalty.points.earning_helpers import at, balance, bank, base, purchase, tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    created = bank()
    base(created, "1")
    for rank in (1, 2, 3):
        tier(created, rank)
    return created


def refer(program, rm, *, referrer_rank):
    referrer, referred = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    member(referrer, program, referrer_rank)
    referral = referral_record(
        program=program, referrer=referrer, referred=referred, recorded_by=rm
    )
    Referral.objects.filter(pk=referral.pk).update(created_at=at(date(2026, 1, 1)))
    return referral


@pytest.mark.parametrize(("rank", "commission"), [(3, 300), (2, 100)])
def test_commission_once_at_the_referrers_rate(program, rm, rank, commission):
    referral = refer(program, rm, referrer_rank=rank)
    first = purchase(referral.referred, "1000.00", when=at(date(2026, 3, 10)))
    purchase(referral.referred, "1000.00", when=at(date(2026, 3, 11)))

    referral.refresh_from_db()
    assert referral.qualifying_transaction_id == first.pk
    assert referral.commission_entry.points == commission
    assert referral.commission_entry.key == f"referral:{referral.pk}"
    assert balance(referral.referrer, program) == commission
    assert PointsEntry.objects.filter(key__startswith="referral:").count() == 1


def test_a_purchase_before_the_referral_does_not_qualify(program, rm):
    referral = refer(program, rm, referrer_rank=3)
    purchase(referral.referred, "1000.00", when=at(date(2025, 12, 31)))

    referral.refresh_from_db()
    assert referral.commission_entry is None
    assert balance(referral.referrer, program) == 0


def test_rm_cannot_record_a_referral_of_someone_elses_customer(program, rm, foreign_rm):
    with pytest.raises(ValidationError) as error:
        referral_record(
            program=program,
            referrer=CustomerFactory(owner=rm),
            referred=CustomerFactory(owner=foreign_rm),
            recorded_by=rm,
        )
    assert "referred" in error.value.error_dict


def test_a_customer_is_referred_once_per_program(program, rm):
    referral = refer(program, rm, referrer_rank=1)
    with pytest.raises(ValidationError):
        referral_record(
            program=program,
            referrer=CustomerFactory(owner=rm),
            referred=referral.referred,
            recorded_by=rm,
        )


def test_referral_admin_lists_only_visible_referrals(program, client, rm, foreign_rm):
    mine = refer(program, rm, referrer_rank=1)
    refer(program, foreign_rm, referrer_rank=1)
    client.force_login(rm)
    response = client.get("/admin/loyalty/referral/")

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_rm_records_a_referral_in_admin(program, client, rm):
    referrer, referred = CustomerFactory(owner=rm), CustomerFactory(owner=rm)
    client.force_login(rm)
    response = client.post(
        "/admin/loyalty/referral/add/",
        {"program": program.pk, "referrer": referrer.pk, "referred": referred.pk},
    )

    assert response.status_code == 302
    assert Referral.objects.get().created_by == rm
