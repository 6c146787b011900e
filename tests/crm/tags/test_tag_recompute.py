"""Rule-based tags: each rule at its boundaries, recomputed set-based, idempotent."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Customer, CustomerTag, Tag, Transaction
from crm.services.tags import SEED_RULE_TAGS, tags_ensure_seed_rules, tags_recompute
from crm.tasks import recompute_tags_task
from tests.factories import (
    CustomerFactory,
    InteractionFactory,
    TagFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

MOTHER_AND_BABY = Transaction.Category.MOTHER_AND_BABY


def rule_tag(rule: str, **parameters) -> Tag:
    return TagFactory(kind=Tag.Kind.RULE, rule=rule, parameters=parameters)


def members(tag: Tag) -> set[int]:
    return set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))


def spend(customer: Customer, amount: str, *, days_ago: float = 1, **fields) -> Transaction:
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        occurred_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def refund(original: Transaction, amount: str, *, days_ago: float = 1, **fields) -> Transaction:
    return TransactionFactory(
        customer=original.customer,
        kind=Transaction.Kind.REFUND,
        refund_of=original,
        amount=Decimal(amount),
        occurred_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def customers_spending(
    amounts: list[int], *, category: str = Transaction.Category.OTHER
) -> list[Customer]:
    """One customer per amount, each with one purchase of that amount yesterday."""
    customers = Customer.objects.bulk_create(
        [Customer(name=f"客户{index}") for index in range(len(amounts))]
    )
    yesterday = timezone.now() - timedelta(days=1)
    Transaction.objects.bulk_create(
        [
            Transaction(
                customer=customer,
                amount=Decimal(amount),
                occurred_at=yesterday,
                category=category,
                source="shop",
                external_id=f"bulk-{customer.pk}",
            )
            for customer, amount in zip(customers, amounts, strict=True)
        ]
    )
    return customers


# --- TOP_SPENDERS ----------------------------------------------------------------------------


def test_top_spenders_takes_exactly_the_top_tenth_and_not_the_eleventh():
    customers = customers_spending(list(range(1, 101)))  # spends 1..100
    tag = rule_tag(Tag.Rule.TOP_SPENDERS, share=0.1, days=365)

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == {c.pk for c in customers[90:]}  # 91..100
    assert customers[89].pk not in members(tag)  # the 11th, spend 90


def test_top_spenders_keeps_customers_tied_at_the_boundary_together():
    # 100..92 are the top nine; the two at 91 share the 10th place.
    customers = customers_spending([*range(1, 90), *range(92, 101), 91, 91])
    tag = rule_tag(Tag.Rule.TOP_SPENDERS, share=0.1, days=365)

    tags_recompute(tag_id=tag.pk)

    tied = {customers[98].pk, customers[99].pk}
    assert tied <= members(tag)
    assert len(members(tag)) == 11


def test_top_spenders_counts_purchases_minus_refunds_in_the_window():
    big_but_refunded, steady, old_money = CustomerFactory.create_batch(3)
    refund(spend(big_but_refunded, "10000"), "9500")  # net 500
    spend(steady, "800")
    spend(old_money, "50000", days_ago=366)  # outside the 365-day window
    spend(old_money, "1")
    CustomerFactory.create_batch(2)  # no spend: not ranked at all
    tag = rule_tag(Tag.Rule.TOP_SPENDERS, share=0.34, days=365)  # 1 of the 3 spenders

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == {steady.pk}


def test_top_spenders_ignores_other_currencies_and_non_purchases():
    in_cny, in_usd = CustomerFactory.create_batch(2)
    spend(in_cny, "100")
    spend(in_usd, "100000", currency="USD")
    spend(in_usd, "50000", kind=Transaction.Kind.DEPOSIT)
    spend(in_usd, "10")
    tag = rule_tag(Tag.Rule.TOP_SPENDERS, share=0.5, days=365)

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == {in_cny.pk}


# --- ACTIVE_WITHIN ---------------------------------------------------------------------------


def test_active_within_counts_day_30_and_not_day_31(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    on_day_30, on_day_31, by_interaction, silent = CustomerFactory.create_batch(4)
    spend(on_day_30, "10", days_ago=30)
    spend(on_day_31, "10", days_ago=31)
    InteractionFactory(customer=by_interaction, occurred_at=timezone.now() - timedelta(days=3))
    InteractionFactory(customer=silent, occurred_at=timezone.now() - timedelta(days=45))
    tag = rule_tag(Tag.Rule.ACTIVE_WITHIN, days=30)

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == {on_day_30.pk, by_interaction.pk}


def test_active_within_leaves_out_merged_customers():
    survivor = CustomerFactory()
    merged = CustomerFactory(status=Customer.Status.MERGED, merged_into=survivor)
    spend(merged, "10")
    tag = rule_tag(Tag.Rule.ACTIVE_WITHIN, days=30)

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == set()


# --- CATEGORY_SHARE --------------------------------------------------------------------------


def test_category_share_of_exactly_the_threshold_is_in():
    exactly, just_below, only_category = CustomerFactory.create_batch(3)
    spend(exactly, "30.00", category=MOTHER_AND_BABY)
    spend(exactly, "70.00")
    spend(just_below, "29.99", category=MOTHER_AND_BABY)
    spend(just_below, "70.01")
    spend(only_category, "5.55", category=MOTHER_AND_BABY)
    tag = rule_tag(Tag.Rule.CATEGORY_SHARE, category=MOTHER_AND_BABY, share=0.3, days=365)

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == {exactly.pk, only_category.pk}


def test_category_share_counts_a_refund_against_the_category_it_refunds():
    customer = CustomerFactory()
    nappies = spend(customer, "600", category=MOTHER_AND_BABY)
    spend(customer, "400")
    # The source system filed the refund under "other"; it still refunds mother-and-baby spend.
    refund(nappies, "500", category=Transaction.Category.OTHER)  # 100 of 500: 20%
    tag = rule_tag(Tag.Rule.CATEGORY_SHARE, category=MOTHER_AND_BABY, share=0.3, days=365)

    tags_recompute(tag_id=tag.pk)

    assert members(tag) == set()


# --- recomputation ---------------------------------------------------------------------------


def test_recompute_replaces_members_and_is_idempotent():
    stays, leaves, joins = CustomerFactory.create_batch(3)
    spend(stays, "10")
    tag = rule_tag(Tag.Rule.ACTIVE_WITHIN, days=30)
    CustomerTag.objects.create(customer=leaves, tag=tag)  # from an earlier run
    spend(joins, "10")

    first = tags_recompute(tag_id=tag.pk)
    rows_after_first = set(CustomerTag.objects.filter(tag=tag).values_list("pk", "customer_id"))
    second = tags_recompute(tag_id=tag.pk)

    assert members(tag) == {stays.pk, joins.pk}
    assert (first[0].added, first[0].removed) == (2, 1)
    assert (second[0].added, second[0].removed) == (0, 0)
    assert set(CustomerTag.objects.filter(tag=tag).values_list("pk", "customer_id")) == (
        rows_after_first
    )
    tag.refresh_from_db()
    assert tag.recomputed_at is not None


def test_manual_tags_are_never_touched():
    vip = TagFactory(name="VIP", kind=Tag.Kind.MANUAL)
    hand_picked, active = CustomerFactory.create_batch(2)
    CustomerTag.objects.create(customer=hand_picked, tag=vip)
    spend(active, "10")
    rule_tag(Tag.Rule.ACTIVE_WITHIN, days=30)

    tags_recompute()

    assert members(vip) == {hand_picked.pk}
    vip.refresh_from_db()
    assert vip.recomputed_at is None
    with pytest.raises(ValidationError) as error:
        tags_recompute(tag_id=vip.pk)
    assert error.value.code == "manual_tag"


def test_a_rule_tag_with_broken_parameters_is_skipped_by_the_nightly_run():
    broken = rule_tag(Tag.Rule.ACTIVE_WITHIN, days="thirty")
    working = rule_tag(Tag.Rule.ACTIVE_WITHIN, days=30)
    spend(CustomerFactory(), "10")

    results = tags_recompute()

    assert working.pk in {result.tag_id for result in results}
    assert broken.pk not in {result.tag_id for result in results}
    with pytest.raises(ValidationError):
        tags_recompute(tag_id=broken.pk)


def _recompute_queries(tag: Tag) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        tags_recompute(tag_id=tag.pk)
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(
    ("rule", "parameters"),
    [
        (Tag.Rule.TOP_SPENDERS, {"share": 0.1, "days": 365}),
        (Tag.Rule.ACTIVE_WITHIN, {"days": 30}),
        (Tag.Rule.CATEGORY_SHARE, {"category": "mother_and_baby", "share": 0.3, "days": 365}),
    ],
)
def test_recompute_query_count_does_not_depend_on_the_number_of_customers(
    rule, parameters, django_assert_num_queries
):
    tag = rule_tag(rule, **parameters)
    customers_spending([10 + index for index in range(20)], category=MOTHER_AND_BABY)
    with_20 = _recompute_queries(tag)
    customers_spending([10 + index for index in range(180)], category=MOTHER_AND_BABY)
    CustomerTag.objects.filter(tag=tag).delete()

    # SAVEPOINT, SELECT ... FOR UPDATE of the tag, CREATE TEMPORARY TABLE ... AS (the rule's
    # customers), DELETE, INSERT ... SELECT, DROP TABLE, UPDATE recomputed_at, RELEASE SAVEPOINT.
    with django_assert_num_queries(8):
        with_200 = _recompute_queries(tag)

    assert len(with_20) == len(with_200)
    assert len(members(tag)) > 0


def test_task_recomputes_one_tag_or_all():
    customer = CustomerFactory()
    spend(customer, "10")
    tag = rule_tag(Tag.Rule.ACTIVE_WITHIN, days=30)

    recompute_tags_task.apply(kwargs={"tag_id": tag.pk}).get()
    assert members(tag) == {customer.pk}

    CustomerTag.objects.filter(tag=tag).delete()
    recompute_tags_task.apply().get()
    assert members(tag) == {customer.pk}


def test_nightly_schedule_is_created_on_migrate():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="crm.tasks.recompute_tags_task").exists()


def test_seed_rule_tags_exist_after_migrate_and_are_not_recreated():
    names = {name for name, *_ in SEED_RULE_TAGS}
    assert set(Tag.objects.filter(kind=Tag.Kind.RULE).values_list("name", flat=True)) >= names

    Tag.objects.filter(name__in=names).first().delete()
    tags_ensure_seed_rules()

    assert Tag.objects.filter(name__in=names).count() == len(names) - 1


def test_seed_rule_tags_are_created_on_a_database_without_rule_tags():
    Tag.objects.filter(kind=Tag.Kind.RULE).delete()

    tags_ensure_seed_rules()
    tags_ensure_seed_rules()

    seeds = Tag.objects.filter(kind=Tag.Kind.RULE)
    assert {(tag.rule, tag.name) for tag in seeds} == {
        (rule, name) for name, _description, rule, _parameters in SEED_RULE_TAGS
    }
