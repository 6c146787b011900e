"""The rewards and benefits API: redeem, cancel, benefits left, use; keys, codes, scoping."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from loyalty.models import BenefitAllowance, BenefitUse, IdempotencyKey, Redemption, Reward
from tests.factories import CustomerFactory, UserFactory
from tests.loyalty.factories import SHANGHAI, member
from tests.loyalty.points.rewards_helpers import balance, bank, benefit, earn, reward

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def program():
    return bank()


@pytest.fixture
def customer(rm):
    return CustomerFactory(owner=rm)


def client_for(user) -> APIClient:
    client = APIClient()
    _token, key = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def redeem(client, customer, body, key="key-1"):
    return client.post(
        f"/api/v1/loyalty/customers/{customer.pk}/redemptions/",
        body,
        format="json",
        headers={"Idempotency-Key": key} if key else {},
    )


def cancel(client, redemption_id, key="cancel-1"):
    return client.post(
        f"/api/v1/loyalty/redemptions/{redemption_id}/cancel/",
        {},
        format="json",
        headers={"Idempotency-Key": key},
    )


def use(client, customer, benefit_id, body=None, key="use-1"):
    return client.post(
        f"/api/v1/loyalty/customers/{customer.pk}/benefits/{benefit_id}/use/",
        body or {},
        format="json",
        headers={"Idempotency-Key": key},
    )


# --- Redeem -----------------------------------------------------------------------------------


def test_redeem_answers_201_with_the_redemption(rm, customer, program):
    earn(customer, program, 250, key="e1")
    tea = reward(program, stock=2, points_price=100)

    response = redeem(client_for(rm), customer, {"reward": tea.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    redemption = Redemption.objects.get()
    assert body["id"] == redemption.pk
    assert body["customer"] == customer.pk
    assert body["program"] == "bank"
    assert body["reward"] == tea.pk
    assert body["points"] == 100
    assert body["status"] == "completed"
    assert body["balance"] == 150
    assert redemption.entry.key == f"redeem:api:{rm.pk}:key-1"


def test_the_same_key_replays_the_same_answer_and_redeems_once(rm, customer, program):
    earn(customer, program, 500, key="e1")
    tea = reward(program, stock=5)
    client = client_for(rm)

    first = redeem(client, customer, {"reward": tea.pk})
    again = redeem(client, customer, {"reward": tea.pk})

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1
    assert balance(customer, program) == 400
    assert Reward.objects.get().stock == 4


def test_the_same_key_with_another_body_is_422(rm, customer, program):
    earn(customer, program, 500, key="e1")
    client = client_for(rm)
    redeem(client, customer, {"reward": reward(program).pk})

    response = redeem(client, customer, {"reward": reward(program, name="Pen").pk})

    assert response.status_code == 422
    assert Redemption.objects.count() == 1


def test_two_users_may_use_the_same_key(rm, supervisor, customer, program):
    earn(customer, program, 500, key="e1")
    tea = reward(program)

    assert redeem(client_for(rm), customer, {"reward": tea.pk}).status_code == 201
    assert redeem(client_for(supervisor), customer, {"reward": tea.pk}).status_code == 201
    assert Redemption.objects.count() == 2


def test_insufficient_points_is_409_with_a_code_and_stores_nothing(rm, customer, program):
    earn(customer, program, 50, key="e1")
    tea = reward(program, points_price=100)
    client = client_for(rm)

    response = redeem(client, customer, {"reward": tea.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_points"
    assert not IdempotencyKey.objects.exists()
    # Nothing was stored: the same key runs again once there are points.
    earn(customer, program, 50, key="e2")
    assert redeem(client, customer, {"reward": tea.pk}).status_code == 201


def test_out_of_stock_is_409_with_a_code(rm, customer, program):
    earn(customer, program, 500, key="e1")

    response = redeem(client_for(rm), customer, {"reward": reward(program, stock=0).pk})

    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert balance(customer, program) == 500


def test_a_tier_restricted_reward_is_400_with_a_code(rm, customer, program):
    earn(customer, program, 500, key="e1")
    gold_only = reward(program, min_tier=program.tiers.get(rank=3))

    response = redeem(client_for(rm), customer, {"reward": gold_only.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "tier_too_low"
    assert balance(customer, program) == 500


def test_an_unknown_reward_is_400(rm, customer, program):
    response = redeem(client_for(rm), customer, {"reward": 999_999})
    assert response.status_code == 400
    assert "reward" in response.json()


def test_a_missing_key_is_400(rm, customer, program):
    earn(customer, program, 500, key="e1")
    response = redeem(client_for(rm), customer, {"reward": reward(program).pk}, key=None)
    assert response.status_code == 400
    assert not Redemption.objects.exists()


def test_another_rms_customer_is_404(foreign_rm, customer, program):
    earn(customer, program, 500, key="e1")

    response = redeem(client_for(foreign_rm), customer, {"reward": reward(program).pk})

    assert response.status_code == 404
    assert not Redemption.objects.exists()


def test_a_user_without_the_permission_is_403(customer, program):
    earn(customer, program, 500, key="e1")
    response = redeem(client_for(UserFactory()), customer, {"reward": reward(program).pk})
    assert response.status_code == 403


# --- Cancel -----------------------------------------------------------------------------------


def test_cancel_gives_points_and_stock_back_and_twice_answers_the_same(rm, customer, program):
    earn(customer, program, 100, key="e1")
    tea = reward(program, stock=1)
    client = client_for(rm)
    redemption_id = redeem(client, customer, {"reward": tea.pk}).json()["id"]

    first = cancel(client, redemption_id, key="c1")
    second = cancel(client, redemption_id, key="c2")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "cancelled"
    assert first.json()["balance"] == 100
    assert second.json() == first.json()
    assert balance(customer, program) == 100
    assert Reward.objects.get().stock == 1


def test_another_rm_cannot_cancel(rm, foreign_rm, customer, program):
    earn(customer, program, 100, key="e1")
    redemption_id = redeem(client_for(rm), customer, {"reward": reward(program).pk}).json()["id"]

    assert cancel(client_for(foreign_rm), redemption_id).status_code == 404
    assert Redemption.objects.get().status == "completed"


# --- Benefits ---------------------------------------------------------------------------------


def test_benefits_show_quota_used_and_left(rm, customer, program, django_assert_num_queries):
    checks = benefit(program, rank=2, quota=3)
    benefit(program, rank=2, code="fee", name="Fee", quota=None, discount_percent=50)
    member(customer, program, 2)
    client = client_for(rm)
    use(client, customer, checks.pk)

    # Token, user permissions, group permissions, the customer, then the three reads.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/loyalty/customers/{customer.pk}/benefits/")

    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-05-20"
    rows = {row["code"]: row for row in body["benefits"]}
    assert rows["health-check"]["quota"] == 3
    assert rows["health-check"]["used"] == 1
    assert rows["health-check"]["left"] == 2
    assert rows["health-check"]["period_start"] == "2026-01-01"
    assert rows["fee"]["is_discount"] is True
    assert rows["fee"]["quota"] is None
    assert rows["fee"]["discount_percent"] == "50.00"
    for code in "abcdef":
        benefit(program, rank=1, code=code)
    with django_assert_num_queries(len(queries)):
        assert (
            len(client.get(f"/api/v1/loyalty/customers/{customer.pk}/benefits/").json()["benefits"])
            == 8
        )


def test_another_rms_customer_benefits_are_404(foreign_rm, customer, program):
    assert (
        client_for(foreign_rm).get(f"/api/v1/loyalty/customers/{customer.pk}/benefits/").status_code
        == 404
    )


def test_use_answers_201_and_replays(rm, customer, program):
    checks = benefit(program, rank=2, quota=3)
    member(customer, program, 2)
    client = client_for(rm)

    first = use(client, customer, checks.pk, {"note": "Ruijin"})
    again = use(client, customer, checks.pk, {"note": "Ruijin"})

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["used"] == 1
    assert first.json()["left"] == 2
    assert BenefitAllowance.objects.get().used == 1
    assert use(client, customer, checks.pk, {"note": "other"}).status_code == 422


def test_over_quota_is_409_with_a_code(rm, customer, program):
    checks = benefit(program, rank=2, quota=1)
    member(customer, program, 2)
    client = client_for(rm)
    use(client, customer, checks.pk, key="u1")

    response = use(client, customer, checks.pk, key="u2")

    assert response.status_code == 409
    assert response.json()["code"] == "over_quota"
    assert BenefitUse.objects.count() == 1


def test_a_benefit_not_held_is_400_and_an_unknown_one_404(rm, customer, program):
    lounge = benefit(program, rank=3)
    member(customer, program, 2)
    client = client_for(rm)

    response = use(client, customer, lounge.pk)
    assert response.status_code == 400
    assert response.json()["code"] == "benefit_not_held"
    assert use(client, customer, 999_999, key="u2").status_code == 404


def test_another_rm_cannot_use(foreign_rm, customer, program):
    checks = benefit(program, rank=1)
    member(customer, program, 2)

    assert use(client_for(foreign_rm), customer, checks.pk).status_code == 404
    assert not BenefitUse.objects.exists()
