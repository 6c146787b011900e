"""The program's "Thresholds: preview and save" page, as a supervisor and an RM use it."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loyalty.models import Condition, CriterionGroup, Membership, MembershipChange, Program
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(db):
    call_command("seed_programs")
    return Program.objects.get(code="bank")


@pytest.fixture
def gold_card_spend(bank):
    return Condition.objects.get(
        group__tier__program=bank, group__tier__rank=3, group__name="Card spend"
    )


@pytest.fixture
def page(bank):
    return reverse("admin:loyalty_program_thresholds", args=[bank.pk])


def card_spend(customer, amount: str):
    day = timezone.localdate() - timedelta(days=5)
    TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        payment_method="card",
        occurred_at=timezone.make_aware(datetime.combine(day, time(12))),
    )


def thresholds(program, **changes: str) -> dict[str, str]:
    """The page's inputs with the saved thresholds, `threshold_<id>=value` overriding."""
    data = {
        f"threshold_{pk}": str(threshold)
        for pk, threshold in Condition.objects.filter(group__tier__program=program).values_list(
            "pk", "threshold"
        )
    }
    data.update(changes)
    return data


def saved_thresholds(program) -> dict[int, Decimal]:
    return dict(
        Condition.objects.filter(group__tier__program=program).values_list("pk", "threshold")
    )


def preview(client, page, data):
    response = client.post(page, {**data, "action": "preview"})
    assert response.status_code == 200
    return response


def test_supervisor_finds_the_page_on_the_program_and_sees_every_condition(
    client, supervisor, bank, page
):
    client.force_login(supervisor)

    change_page = client.get(reverse("admin:loyalty_program_change", args=[bank.pk]))
    response = client.get(page)

    assert page in change_page.content.decode()
    assert response.status_code == 200
    html = response.content.decode()
    conditions = Condition.objects.filter(group__tier__program=bank)
    assert conditions.count() == 13
    for condition in conditions:
        assert f'name="threshold_{condition.pk}"' in html
    assert "Threshold advice" in html
    assert 'value="save"' not in html  # nothing previewed yet: no save button
    assert response.context["comparison"] is None


def test_preview_shows_the_movements_and_changes_nothing(
    client, supervisor, bank, page, gold_card_spend
):
    customer = CustomerFactory()
    card_spend(customer, "35000")
    Membership.objects.create(
        customer=customer,
        program=bank,
        tier=bank.tiers.get(rank=3),
        since=timezone.localdate(),
    )
    CustomerFactory()
    before = saved_thresholds(bank)
    client.force_login(supervisor)

    response = preview(
        client, page, thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "40000"})
    )

    comparison = {tier.rank: tier for tier in response.context["comparison"]}
    assert (comparison[3].saved.stay, comparison[3].proposed.down) == (1, 1)
    assert (comparison[0].proposed.customers, comparison[0].proposed.up) == (1, 1)
    html = response.content.decode()
    assert "would qualify for less (warnings, then down)" in html
    assert 'value="save"' in html
    assert response.context["token"]
    assert saved_thresholds(bank) == before
    assert Membership.objects.count() == 1
    assert not MembershipChange.objects.exists()


def test_supervisor_previews_then_saves(client, supervisor, bank, page, gold_card_spend):
    client.force_login(supervisor)
    data = thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "40000.50"})
    token = preview(client, page, data).context["token"]
    before = saved_thresholds(bank)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(page, {**data, "token": token, "action": "save"})

    assert response.status_code == 302
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    # The thresholds, then who changed which one in the admin's log; nothing else.
    assert len(writes) == 2
    assert writes[0].startswith('UPDATE "loyalty_condition" SET "threshold"')
    assert writes[1].startswith('INSERT INTO "django_admin_log"')
    entry = LogEntry.objects.get()
    assert (entry.user, entry.object_id) == (supervisor, str(gold_card_spend.pk))
    assert response.url == page
    after = saved_thresholds(bank)
    assert after.pop(gold_card_spend.pk) == Decimal("40000.50")
    before.pop(gold_card_spend.pk)
    assert after == before
    assert "1 threshold saved" in client.get(page).content.decode()


def test_save_without_a_preview_is_refused(client, supervisor, bank, page, gold_card_spend):
    client.force_login(supervisor)
    before = saved_thresholds(bank)

    response = client.post(
        page,
        {**thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "1"}), "action": "save"},
    )

    assert response.status_code == 200
    assert "Preview the thresholds before saving them." in response.content.decode()
    assert saved_thresholds(bank) == before


def test_save_of_values_other_than_the_previewed_ones_is_refused(
    client, supervisor, bank, page, gold_card_spend
):
    client.force_login(supervisor)
    previewed = thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "40000"})
    token = preview(client, page, previewed).context["token"]
    before = saved_thresholds(bank)

    response = client.post(
        page,
        {
            **thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "45000"}),
            "token": token,
            "action": "save",
        },
    )

    assert response.status_code == 200
    assert "The thresholds differ from the ones previewed." in response.content.decode()
    assert saved_thresholds(bank) == before
    assert not response.context["token"]  # preview again before saving


def test_save_with_a_tampered_token_is_refused(client, supervisor, bank, page, gold_card_spend):
    client.force_login(supervisor)
    data = thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "40000"})
    token = preview(client, page, data).context["token"]
    before = saved_thresholds(bank)

    response = client.post(page, {**data, "token": token[:-2] + "xx", "action": "save"})

    assert response.status_code == 200
    assert "The preview could not be verified." in response.content.decode()
    assert saved_thresholds(bank) == before


def test_save_is_refused_when_thresholds_changed_since_the_preview(
    client, supervisor, bank, page, gold_card_spend
):
    client.force_login(supervisor)
    data = thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "40000"})
    token = preview(client, page, data).context["token"]
    other = Condition.objects.filter(group__tier__program=bank).exclude(pk=gold_card_spend.pk)[0]
    Condition.objects.filter(pk=other.pk).update(threshold=Decimal("123.00"))

    response = client.post(page, {**data, "token": token, "action": "save"})

    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    gold_card_spend.refresh_from_db()
    assert gold_card_spend.threshold == Decimal("30000.00")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("12345678901234567", "no more than 16 digits"),
        ("1.234", "no more than 2 decimal places"),
        ("lots", "Enter a number."),
    ],
)
def test_preview_refuses_an_invalid_threshold(
    client, supervisor, bank, page, gold_card_spend, value, message
):
    client.force_login(supervisor)

    response = preview(client, page, thresholds(bank, **{f"threshold_{gold_card_spend.pk}": value}))

    assert message in response.content.decode()
    assert response.context["comparison"] is None
    assert not response.context["token"]


def test_rm_may_not_open_preview_or_save(client, rm, bank, page, gold_card_spend):
    client.force_login(rm)
    data = thresholds(bank, **{f"threshold_{gold_card_spend.pk}": "1"})

    assert client.get(page).status_code == 403
    assert client.post(page, {**data, "action": "preview"}).status_code == 403
    assert client.post(page, {**data, "action": "save"}).status_code == 403
    change_page = client.get(reverse("admin:loyalty_program_change", args=[bank.pk]))
    assert change_page.status_code == 200
    assert page not in change_page.content.decode()
    gold_card_spend.refresh_from_db()
    assert gold_card_spend.threshold == Decimal("30000.00")


def test_advice_gives_the_threshold_the_target_share_reaches(
    client, supervisor, bank, page, gold_card_spend
):
    for amount in range(1000, 11000, 1000):
        card_spend(CustomerFactory(), str(amount))
    client.force_login(supervisor)

    response = client.get(page, {"condition": gold_card_spend.pk, "share": "20"})

    assert response.status_code == 200
    advice = response.context["advice"]
    assert (advice["row"].id, advice["share"], advice["threshold"]) == (
        gold_card_spend.pk,
        20,
        Decimal("9000.00"),
    )
    assert "20% of customers meet" in response.content.decode()


def test_advice_is_offered_for_the_tier_below_the_top_at_twenty_percent(
    client, supervisor, bank, page
):
    client.force_login(supervisor)

    form = client.get(page).context["advice_form"]

    condition = Condition.objects.get(pk=form["condition"].value())
    assert condition.group.tier.rank == 4
    assert form["share"].value() == 20


@pytest.mark.parametrize("share", ["0", "100"])
def test_advice_refuses_a_share_outside_one_to_ninety_nine(
    client, supervisor, bank, page, gold_card_spend, share
):
    client.force_login(supervisor)

    response = client.get(page, {"condition": gold_card_spend.pk, "share": share})

    assert response.status_code == 200
    assert response.context["advice"] is None
    assert response.context["advice_form"].errors["share"]


# --- the other ways to a threshold: read-only once the condition exists --------------------


def test_condition_admin_keeps_an_existing_threshold(client, supervisor, bank, gold_card_spend):
    client.force_login(supervisor)
    url = reverse("admin:loyalty_condition_change", args=[gold_card_spend.pk])

    html = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "group": gold_card_spend.group_id,
            "metric": "spend",
            "window_months": "12",
            "operator": ">=",
            "threshold": "1",
            "parameters": '{"payment_method": "card"}',
        },
    )

    assert reverse("admin:loyalty_program_thresholds", args=[bank.pk]) in html
    assert response.status_code == 302
    gold_card_spend.refresh_from_db()
    assert gold_card_spend.threshold == Decimal("30000.00")


def test_condition_admin_adds_a_condition_with_its_threshold(client, supervisor, bank):
    group = CriterionGroup.objects.get(tier__program=bank, tier__rank=2, name="Card spend")
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:loyalty_condition_add"),
        {
            "group": group.pk,
            "metric": "orders",
            "window_months": "12",
            "operator": ">=",
            "threshold": "7",
            "parameters": "{}",
        },
    )

    assert response.status_code == 302
    assert group.conditions.get(metric="orders").threshold == Decimal("7.00")


def test_condition_inline_keeps_existing_thresholds_and_adds_new_ones(
    client, supervisor, bank, gold_card_spend
):
    group = gold_card_spend.group
    client.force_login(supervisor)
    url = reverse("admin:loyalty_criteriongroup_change", args=[group.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("admin:loyalty_program_thresholds", args=[bank.pk]) in page.content.decode()

    response = client.post(
        url,
        {
            "tier": group.tier_id,
            "name": group.name,
            "conditions-TOTAL_FORMS": "2",
            "conditions-INITIAL_FORMS": "1",
            "conditions-MIN_NUM_FORMS": "0",
            "conditions-MAX_NUM_FORMS": "1000",
            "conditions-0-id": gold_card_spend.pk,
            "conditions-0-group": group.pk,
            "conditions-0-metric": "spend",
            "conditions-0-window_months": "12",
            "conditions-0-operator": ">=",
            "conditions-0-threshold": "1",
            "conditions-0-parameters": '{"payment_method": "card"}',
            "conditions-1-group": group.pk,
            "conditions-1-metric": "orders",
            "conditions-1-window_months": "12",
            "conditions-1-operator": ">=",
            "conditions-1-threshold": "12",
            "conditions-1-parameters": "{}",
        },
    )

    assert response.status_code == 302
    gold_card_spend.refresh_from_db()
    assert gold_card_spend.threshold == Decimal("30000.00")
    assert group.conditions.get(metric="orders").threshold == Decimal("12.00")


def test_rm_sees_no_link_to_the_thresholds_page(client, rm, bank, gold_card_spend):
    client.force_login(rm)

    html = client.get(
        reverse("admin:loyalty_criteriongroup_change", args=[gold_card_spend.group_id])
    ).content.decode()

    assert reverse("admin:loyalty_program_thresholds", args=[bank.pk]) not in html
