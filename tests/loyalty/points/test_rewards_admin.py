"""Rewards and benefits in admin: redeem and use from the customer's page, cancel, lists."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty.models import BenefitAllowance, BenefitUse, Redemption, Reward
from loyalty.services.benefits import benefit_use
from loyalty.services.rewards import reward_redeem
from tests.factories import CustomerFactory
from tests.loyalty.factories import member, tiered_program
from tests.loyalty.points.rewards_helpers import balance, bank, benefit, earn, reward

pytestmark = pytest.mark.django_db
TODAY = "2026-05-20 10:00 +08:00"
CHANGELIST = reverse("admin:loyalty_redemption_changelist")


@pytest.fixture
def program():
    return bank()


@pytest.fixture
def customer(rm):
    return CustomerFactory(owner=rm)


def redeem_url(customer) -> str:
    return reverse("admin:loyalty_redemption_redeem", args=[customer.pk])


def cancel_url(redemption) -> str:
    return reverse("admin:loyalty_redemption_cancel", args=[redemption.pk])


def use_url(customer, benefit) -> str:
    return reverse("admin:loyalty_benefituse_use", args=[customer.pk, benefit.pk])


# --- Redeem from the customer's page -------------------------------------------------------


def test_rm_redeems_for_own_customer_with_a_confirmation(client, rm, customer, program):
    earn(customer, program, 250, key="e1")
    tea = reward(program, stock=2, points_price=100)
    client.force_login(rm)

    shown = client.get(redeem_url(customer))
    assert shown.status_code == 200
    key = shown.context["form"]["key"].value()
    assert "Tea set" in shown.content.decode()
    assert [points for _program, points in shown.context["balances"]] == [250]

    confirm = client.post(redeem_url(customer), {"reward": tea.pk, "key": key})
    assert confirm.status_code == 200
    assert confirm.context["confirming"]
    assert confirm.context["balance_after"] == 150
    assert not Redemption.objects.exists()

    done = client.post(redeem_url(customer), {"reward": tea.pk, "key": key, "confirmed": "on"})
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:crm_customer_change", args=[customer.pk])
    assert balance(customer, program) == 150
    tea.refresh_from_db()
    assert tea.stock == 1


def test_a_double_submit_redeems_once(client, rm, customer, program):
    earn(customer, program, 500, key="e1")
    tea = reward(program, stock=5)
    client.force_login(rm)
    key = client.get(redeem_url(customer)).context["form"]["key"].value()
    data = {"reward": tea.pk, "key": key, "confirmed": "on"}

    first = client.post(redeem_url(customer), data)
    second = client.post(redeem_url(customer), data)

    assert first.status_code == second.status_code == 302
    assert Redemption.objects.count() == 1
    assert balance(customer, program) == 400


def test_each_form_shown_has_its_own_key(client, rm, customer, program):
    client.force_login(rm)
    one = client.get(redeem_url(customer)).context["form"]["key"].value()
    two = client.get(redeem_url(customer)).context["form"]["key"].value()
    assert one != two


def test_not_enough_points_is_shown_on_the_form(client, rm, customer, program):
    earn(customer, program, 50, key="e1")
    tea = reward(program, points_price=100)
    client.force_login(rm)
    key = client.get(redeem_url(customer)).context["form"]["key"].value()

    response = client.post(redeem_url(customer), {"reward": tea.pk, "key": key, "confirmed": "on"})

    assert response.status_code == 200
    assert "Not enough points" in response.content.decode()
    assert not Redemption.objects.exists()


def test_out_of_stock_is_shown_on_the_form(client, rm, customer, program):
    earn(customer, program, 500, key="e1")
    tea = reward(program, stock=0)
    client.force_login(rm)
    shown = client.get(redeem_url(customer))
    assert "out of stock" in shown.content.decode()

    response = client.post(
        redeem_url(customer),
        {"reward": tea.pk, "key": shown.context["form"]["key"].value(), "confirmed": "on"},
    )

    assert response.status_code == 200
    assert "This reward is out of stock." in response.content.decode()
    assert balance(customer, program) == 500


def test_the_form_lists_only_rewards_the_customer_may_redeem(client, rm, customer, program):
    member(customer, program, 2)
    reward(program, name="For everyone")
    reward(program, name="Silver and up", min_tier=program.tiers.get(rank=2))
    reward(program, name="Gold only", min_tier=program.tiers.get(rank=3))
    reward(program, name="Retired", is_active=False)
    reward(program, name="Expired", valid_until=date(2020, 1, 1))
    client.force_login(rm)

    response = client.get(redeem_url(customer))

    names = [r.name for r in response.context["form"].fields["reward"].queryset]
    assert sorted(names) == ["For everyone", "Silver and up"]


def test_another_rms_customer_is_404(client, foreign_rm, customer, program):
    tea = reward(program)
    client.force_login(foreign_rm)

    assert client.get(redeem_url(customer)).status_code == 404
    response = client.post(
        redeem_url(customer),
        {"reward": tea.pk, "key": "7f1c6a52-8f63-4ab3-9c43-1d0d7a43f2ab", "confirmed": "on"},
    )
    assert response.status_code == 404
    assert not Redemption.objects.exists()


def test_the_supervisor_of_the_team_may_redeem(client, supervisor, customer, program):
    earn(customer, program, 100, key="e1")
    tea = reward(program)
    client.force_login(supervisor)
    key = client.get(redeem_url(customer)).context["form"]["key"].value()

    response = client.post(redeem_url(customer), {"reward": tea.pk, "key": key, "confirmed": "on"})

    assert response.status_code == 302
    assert Redemption.objects.get().created_by == supervisor


def test_the_customer_page_offers_redeem_and_benefits(client, rm, customer, program):
    member(customer, program, 2)
    benefit(program, rank=2, name="Free health check")
    client.force_login(rm)

    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()

    assert redeem_url(customer) in page
    assert "Free health check" in page
    assert "3 of 3" in page


# --- Redemptions: list and cancel -----------------------------------------------------------


def redeemed(customer, program, actor, n: int, **fields) -> Redemption:
    earn(customer, program, 100, key=f"e{n}")
    return reward_redeem(
        actor=actor, customer=customer, reward=reward(program, **fields), key=f"k{n}"
    )


def test_rm_cancels_with_a_confirmation(client, rm, customer, program):
    redemption = redeemed(customer, program, rm, 1, stock=3)
    client.force_login(rm)

    page = client.get(reverse("admin:loyalty_redemption_change", args=[redemption.pk]))
    assert cancel_url(redemption) in page.content.decode()
    confirmation = client.get(cancel_url(redemption))
    assert confirmation.status_code == 200
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.COMPLETED

    response = client.post(cancel_url(redemption))

    assert response.status_code == 302
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED
    assert balance(customer, program) == 100
    assert Reward.objects.get().stock == 3
    client.post(cancel_url(redemption))
    assert balance(customer, program) == 100


def test_another_rm_cannot_see_or_cancel(client, rm, foreign_rm, customer, program):
    redemption = redeemed(customer, program, rm, 1)
    client.force_login(foreign_rm)

    assert (
        client.get(reverse("admin:loyalty_redemption_change", args=[redemption.pk])).status_code
        == 404
    )
    assert client.get(cancel_url(redemption)).status_code == 404
    assert client.post(cancel_url(redemption)).status_code == 404
    assert client.get(CHANGELIST).context["cl"].result_count == 0
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.COMPLETED


def _changelist_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CHANGELIST).status_code == 200
    return len(captured)


def test_the_redemption_list_query_count_does_not_grow_with_rows(client, rm, program):
    customer = CustomerFactory(owner=rm)
    redeemed(customer, program, rm, 1)
    with_one = _changelist_queries(client, rm)
    for n in range(2, 12):
        redeemed(CustomerFactory(owner=rm), program, rm, n)

    assert _changelist_queries(client, rm) == with_one
    assert client.get(CHANGELIST).context["cl"].result_count == 11


def test_the_reward_list_query_count_does_not_grow_with_rows(client, supervisor, program):
    reward(program, min_tier=program.tiers.get(rank=2))
    url = reverse("admin:loyalty_reward_changelist")
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for n in range(10):
        reward(program, name=f"Reward {n}", min_tier=program.tiers.get(rank=3), stock=n)

    with CaptureQueriesContext(connection) as eleven:
        assert client.get(url).status_code == 200
    assert len(eleven) == len(one)


def test_reward_history_is_kept(client, supervisor, program):
    tea = reward(program, points_price=100)
    client.force_login(supervisor)
    data = {
        "program": program.pk,
        "name": "Tea set",
        "name_zh_hans": "",
        "description": "",
        "points_price": 120,
        "value": "50.00",
        "stock": "",
        "min_tier": "",
        "valid_from": "",
        "valid_until": "",
        "is_active": "on",
    }

    response = client.post(reverse("admin:loyalty_reward_change", args=[tea.pk]), data)

    assert response.status_code == 302
    assert list(tea.history.values_list("points_price", flat=True)) == [120, 100]
    assert client.get(reverse("admin:loyalty_reward_history", args=[tea.pk])).status_code == 200


def test_a_reward_tier_must_be_of_its_program(client, supervisor, program):
    shop = tiered_program("shop", "Shop")
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:loyalty_reward_add"),
        {
            "program": program.pk,
            "name": "Tea set",
            "points_price": 100,
            "value": "50.00",
            "min_tier": shop.tiers.get(rank=2).pk,
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "Choose a tier of the reward" in response.content.decode()
    assert not Reward.objects.exists()


def test_an_rm_cannot_change_the_catalogue(client, rm, program):
    client.force_login(rm)
    assert client.get(reverse("admin:loyalty_reward_changelist")).status_code == 200
    assert client.get(reverse("admin:loyalty_reward_add")).status_code == 403


# --- Benefits: use from the customer's page -------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_rm_uses_a_benefit_with_a_confirmation_once_per_form(client, rm, customer, program):
    checks = benefit(program, rank=2, quota=3)
    member(customer, program, 2)
    client.force_login(rm)
    shown = client.get(use_url(customer, checks))
    assert shown.status_code == 200
    assert "3 of 3 left" in shown.content.decode()
    data = {"key": shown.context["form"]["key"].value(), "note": "Ruijin hospital"}

    first = client.post(use_url(customer, checks), data)
    second = client.post(use_url(customer, checks), data)

    assert first.status_code == second.status_code == 302
    assert BenefitAllowance.objects.get().used == 1
    assert BenefitUse.objects.get().note == "Ruijin hospital"


@time_machine.travel(TODAY, tick=False)
def test_over_quota_is_shown_on_the_form(client, rm, customer, program):
    checks = benefit(program, rank=2, quota=1)
    member(customer, program, 2)
    benefit_use(actor=rm, customer=customer, benefit=checks, key="u1")
    BenefitAllowance.objects.update(used=1)
    client.force_login(rm)

    # The panel offers no "use" any more; a form opened before still gets a clear answer.
    response = client.post(
        use_url(customer, checks), {"key": "7f1c6a52-8f63-4ab3-9c43-1d0d7a43f2ab"}
    )

    assert response.status_code == 200
    assert "all taken" in response.content.decode()
    assert BenefitUse.objects.count() == 1


@time_machine.travel(TODAY, tick=False)
def test_another_rms_customer_benefit_is_404(client, foreign_rm, customer, program):
    checks = benefit(program, rank=1)
    member(customer, program, 2)
    client.force_login(foreign_rm)

    assert client.get(use_url(customer, checks)).status_code == 404
    assert (
        client.post(
            use_url(customer, checks), {"key": "7f1c6a52-8f63-4ab3-9c43-1d0d7a43f2ab"}
        ).status_code
        == 404
    )
    assert not BenefitUse.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_a_benefit_not_held_or_a_discount_is_404(client, rm, customer, program):
    lounge = benefit(program, rank=3, code="lounge")
    discount = benefit(program, rank=1, code="fee", quota=None, discount_percent=50)
    member(customer, program, 2)
    client.force_login(rm)

    assert client.get(use_url(customer, lounge)).status_code == 404
    assert client.get(use_url(customer, discount)).status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_the_benefits_panel_query_count_does_not_grow(client, rm, customer, program):
    from crm.panels import _panels

    panel = _panels["loyalty_benefits"]
    member(customer, program, 3)
    benefit(program, rank=1, code="a")

    class Request:
        user = rm

    rm.has_perm("loyalty.add_benefituse")  # the permission cache, as in a request
    with CaptureQueriesContext(connection) as one:
        panel.get_context(customer, Request())
    for code in "bcdefg":
        benefit(program, rank=2, code=code)
        benefit_use(
            actor=rm,
            customer=customer,
            benefit=program.tiers.get(rank=2).benefits.get(code=code),
            key=code,
        )
    benefit(program, rank=3, code="h", quota=None, discount_percent=10)
    with CaptureQueriesContext(connection) as many:
        held = panel.get_context(customer, Request())["held"]
    assert len(held) == 8
    assert len(many) == len(one) == 3  # memberships, benefits, allowances


@time_machine.travel(TODAY, tick=False)
def test_the_rewards_panel_is_one_query(customer, rm, program, django_assert_num_queries):
    from crm.panels import _panels

    for n in range(8):
        redeemed(customer, program, rm, n)

    class Request:
        user = rm

    rm.has_perm("loyalty.add_redemption")  # the permission cache, as in a request
    with django_assert_num_queries(1):
        context = _panels["loyalty_rewards"].get_context(customer, Request())
    assert len(context["redemptions"]) == 5
