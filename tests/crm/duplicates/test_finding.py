"""The nightly finder: which customers it pairs, and that it is blocked, set-based, idempotent."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer, DuplicatePair
from crm.schedules import SCHEDULES
from crm.services.duplicates import duplicates_find
from crm.tasks import find_duplicates_task
from tests.factories import CustomerFactory

BIRTHDAY = date(1988, 5, 17)


def customer(name: str, *, phone: str = "", email: str = "", birth_date=None, **kwargs):
    return CustomerFactory(name=name, phone=phone, email=email, birth_date=birth_date, **kwargs)


def pairs() -> set[tuple[int, int]]:
    return set(DuplicatePair.objects.values_list("customer_id", "other_id"))


def pair_of(a: Customer, b: Customer) -> tuple[int, int]:
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def codes(a: Customer, b: Customer) -> set[str]:
    low, high = pair_of(a, b)
    reasons = DuplicatePair.objects.get(customer_id=low, other_id=high).reasons
    return {reason["code"] for reason in reasons}


@pytest.mark.django_db
def test_same_phone_is_paired():
    a = customer("张伟", phone="+8613800138000", email="zw@163.com")
    b = customer("张伟", phone="+86 138-0013-8000")  # normalised on save
    customer("李娜", phone="+8613900139000")
    duplicates_find()
    assert pairs() == {pair_of(a, b)}
    assert "same_phone" in codes(a, b)


@pytest.mark.django_db
def test_same_email_is_paired_whatever_its_case():
    a = customer("王芳", email="wangfang@163.com", birth_date=BIRTHDAY)
    b = customer("Wang Fang", email="WangFang@163.com", birth_date=BIRTHDAY)
    Customer.objects.filter(pk=b.pk).update(email="WangFang@163.com")  # as a bulk import might
    duplicates_find()
    assert pairs() == {pair_of(a, b)}
    assert {"same_email", "similar_name", "same_birth_date"} <= codes(a, b)


@pytest.mark.django_db
def test_a_name_with_a_space_and_the_same_birth_date_is_paired():
    a = customer("张伟", birth_date=BIRTHDAY, phone="+8613800138000")
    b = customer("张 伟", birth_date=BIRTHDAY)
    duplicates_find()
    assert pairs() == {pair_of(a, b)}
    reasons = DuplicatePair.objects.get().reasons
    assert {"code": "similar_name", "similarity": 100.0} in reasons


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["Zhang Wei", "ZHANG WEI", "Wei Zhang", "zhangwei"])
def test_a_chinese_name_and_its_pinyin_with_the_same_birth_date_are_paired(spelling):
    a = customer("张伟", birth_date=BIRTHDAY, email="zw@163.com")
    b = customer(spelling, birth_date=BIRTHDAY)
    duplicates_find()
    assert pairs() == {pair_of(a, b)}
    assert DuplicatePair.objects.get().score >= 55


@pytest.mark.django_db
def test_unrelated_people_born_the_same_day_are_not_paired():
    customer("张伟", birth_date=BIRTHDAY, phone="+8613800138000")
    customer("赵敏", birth_date=BIRTHDAY, phone="+8613800138001")
    customer("Zhou Min", birth_date=BIRTHDAY)
    customer("李娜", birth_date=BIRTHDAY)
    customer("李丽", birth_date=BIRTHDAY, email="lili@qq.com")
    duplicates_find()
    assert pairs() == set()


@pytest.mark.django_db
def test_merged_customers_are_left_out():
    a = customer("张伟", phone="+8613800138000")
    b = customer("张伟", phone="+8613800138000")
    Customer.objects.filter(pk=b.pk).update(status=Customer.Status.MERGED, merged_into=a)
    duplicates_find()
    assert pairs() == set()


@pytest.mark.django_db
def test_a_phone_shared_by_too_many_customers_is_a_placeholder_and_skipped(settings):
    settings.CRM_DUPLICATE_MAX_CONTACT_BLOCK = 3
    for number in range(4):
        customer(f"门店散客{number}", phone="+8613800000000")
    # Not "same phone" either when the two are paired for their name and birth date.
    customer("张伟", phone="+8613800000000", birth_date=BIRTHDAY, email="a@qq.com")
    customer("张伟", phone="+8613800000000", birth_date=BIRTHDAY, email="b@qq.com")
    summary = duplicates_find()
    assert summary.blocks_skipped["phone"] == 1
    assert len(pairs()) == 1
    assert "same_phone" not in {reason["code"] for reason in DuplicatePair.objects.get().reasons}


@pytest.mark.django_db
def test_running_twice_changes_nothing():
    a = customer("张伟", phone="+8613800138000")
    b = customer("Zhang Wei", phone="+8613800138000")
    duplicates_find()
    first = list(DuplicatePair.objects.values("id", "customer_id", "other_id", "score", "reasons"))
    summary = duplicates_find()
    assert list(
        DuplicatePair.objects.values("id", "customer_id", "other_id", "score", "reasons")
    ) == (first)
    assert summary.pairs_found == 1
    assert pairs() == {pair_of(a, b)}


@pytest.mark.django_db
def test_a_pair_set_aside_as_not_a_duplicate_never_comes_back(supervisor):
    a = customer("张伟", phone="+8613800138000")
    b = customer("张伟", phone="+8613800138000")
    duplicates_find()
    DuplicatePair.objects.update(status=DuplicatePair.Status.NOT_DUPLICATE, score=61)
    summary = duplicates_find()
    pair = DuplicatePair.objects.get()
    assert (pair.customer_id, pair.other_id) == pair_of(a, b)
    assert pair.status == DuplicatePair.Status.NOT_DUPLICATE
    assert pair.score == 61  # a decided pair keeps what the supervisor saw
    assert summary.pairs_kept_decided == 1


@pytest.mark.django_db
def test_an_open_pair_gets_the_new_score():
    a = customer("张伟", phone="+8613800138000")
    customer("张伟", phone="+8613800138000")
    duplicates_find()
    DuplicatePair.objects.update(score=1, reasons=[])
    Customer.objects.filter(pk=a.pk).update(birth_date=BIRTHDAY)
    duplicates_find()
    pair = DuplicatePair.objects.get()
    assert pair.score > 1
    assert pair.reasons


@pytest.mark.django_db
def test_an_open_pair_no_longer_found_leaves_the_list_and_a_decided_one_stays():
    a = customer("张伟", phone="+8613800138000")
    customer("张伟", phone="+8613800138000")
    c = customer("李娜", email="lina@163.com")
    customer("李娜", email="lina@163.com")
    duplicates_find()
    DuplicatePair.objects.filter(customer=c).update(status=DuplicatePair.Status.NOT_DUPLICATE)
    Customer.objects.filter(pk__in=[a.pk, c.pk]).update(phone="", email="")  # corrected
    summary = duplicates_find()
    assert summary.pairs_removed == 1
    assert list(DuplicatePair.objects.values_list("status", flat=True)) == [
        DuplicatePair.Status.NOT_DUPLICATE
    ]


def _population(size: int, *, first_number: int) -> None:
    """`size` customers, one in ten with a duplicate by phone and one in ten by name."""
    for n in range(first_number, first_number + size):
        phone = f"+86139{n:08d}"
        CustomerFactory(name=f"客户{n}号", phone=phone, email="", birth_date=date(1990, 1, 1))
        if n % 10 == 0:
            CustomerFactory(name=f"客户{n}号", phone=phone, email="", birth_date=None)


def _queries_of_a_run() -> int:
    with CaptureQueriesContext(connection) as captured:
        duplicates_find()
    return len(captured)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_depend_on_the_number_of_customers():
    _population(20, first_number=0)
    with_twenty = _queries_of_a_run()
    found_with_twenty = DuplicatePair.objects.count()
    _population(200, first_number=1000)
    with_two_hundred = _queries_of_a_run()
    assert DuplicatePair.objects.count() > found_with_twenty
    # Three streamed reads of customers, three counts of skipped blocks, per thousand pairs one
    # read of the decided ones and one upsert (in a savepoint here), one read of open pairs.
    assert with_twenty == with_two_hundred
    assert with_two_hundred <= 12


@pytest.mark.django_db
def test_the_nightly_task_finds_pairs_and_is_scheduled():
    a = customer("张伟", phone="+8613800138000")
    b = customer("张伟", phone="+8613800138000")
    result = find_duplicates_task.apply().get()
    assert result["pairs_found"] == 1
    assert pairs() == {pair_of(a, b)}
    assert find_duplicates_task.name in {schedule.task for schedule in SCHEDULES}
