"""Conversions against the control group: who converted, when, and the uplift, by hand."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Transaction
from loyalty.ledger_check import ledger_discrepancies
from loyalty.models import PointsAccount, PointsEntry
from loyalty.services.rewards import reward_redeem
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.points.rewards_helpers import bank, earn, reward
from tests.workflows.campaigns import due_campaign
from workflows.campaigns.conversions import campaign_conversions_record
from workflows.campaigns.launch import campaigns_launch_due
from workflows.campaigns.results import campaign_results
from workflows.models import Campaign, CampaignMember
from workflows.tasks import campaigns_conversions_task

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _launched(noon, count=20, owner=None, **fields):
    CustomerFactory.create_batch(count, owner=owner)
    campaign = due_campaign(noon, control_share=Decimal("0.5"), **fields)
    campaigns_launch_due()
    campaign.refresh_from_db()
    members = CampaignMember.objects.filter(campaign=campaign).order_by("customer_id")
    treated = [m.customer for m in members if not m.is_control]
    control = [m.customer for m in members if m.is_control]
    return campaign, treated, control


def _converted(campaign):
    return dict(
        CampaignMember.objects.filter(campaign=campaign, converted_at__isnull=False).values_list(
            "customer_id", "converted_at"
        )
    )


def test_purchases_in_the_window_convert_and_the_uplift_is_as_computed_by_hand(noon):
    campaign, treated, control = _launched(noon)
    assert len(treated) >= 5
    assert len(control) >= 1
    TransactionFactory(customer=treated[0], occurred_at=noon + DAY)
    TransactionFactory(customer=treated[1], occurred_at=noon + 5 * DAY)
    TransactionFactory(customer=treated[1], occurred_at=noon + 2 * DAY)
    TransactionFactory(customer=treated[2], occurred_at=noon + 30 * DAY)  # the window is over
    TransactionFactory(customer=treated[3], occurred_at=noon - timedelta(hours=1))  # before
    TransactionFactory(customer=treated[4], occurred_at=noon + DAY, kind=Transaction.Kind.DEPOSIT)
    TransactionFactory(customer=control[0], occurred_at=noon + 3 * DAY)

    assert campaigns_conversions_task.apply().get() == {str(campaign.pk): 3}
    assert _converted(campaign) == {
        treated[0].pk: noon + DAY,
        treated[1].pk: noon + 2 * DAY,
        control[0].pk: noon + 3 * DAY,
    }
    results = campaign_results(campaign=campaign)
    t, c = len(treated), len(control)
    assert (results.members, results.treated, results.control) == (t + c, t, c)
    assert results.treated_rate == Decimal(2) / Decimal(t)
    assert results.control_rate == Decimal(1) / Decimal(c)
    assert results.uplift == Decimal(2) / Decimal(t) - Decimal(1) / Decimal(c)
    assert results.relative_uplift == results.uplift / (Decimal(1) / Decimal(c))
    assert results.messages == {"queued": t}


def test_recording_again_changes_nothing_and_a_later_purchase_keeps_the_first_time(noon):
    campaign, treated, _control = _launched(noon)
    TransactionFactory(customer=treated[0], occurred_at=noon + DAY)
    assert campaign_conversions_record(campaign=campaign) == 1
    TransactionFactory(customer=treated[0], occurred_at=noon + timedelta(hours=1))
    assert campaign_conversions_record(campaign=campaign) == 0
    assert _converted(campaign) == {treated[0].pk: noon + DAY}


def test_a_category_rule_counts_only_purchases_in_the_category(noon):
    campaign, treated, _control = _launched(
        noon, conversion_rule="category_purchase", conversion_category="travel"
    )
    TransactionFactory(customer=treated[0], occurred_at=noon + DAY, category="dining")
    TransactionFactory(customer=treated[1], occurred_at=noon + DAY, category="travel")
    campaign_conversions_record(campaign=campaign)
    assert _converted(campaign) == {treated[1].pk: noon + DAY}


def test_a_redemption_rule_counts_redemptions_of_the_offered_reward(noon, rm, time_machine):
    program = bank()
    tea, cake = reward(program, points_price=10), reward(program, points_price=10)
    campaign, treated, _control = _launched(
        noon, owner=rm, offer={"reward": tea.pk}, conversion_rule="redemption"
    )
    time_machine.move_to(noon + DAY, tick=False)
    for n, (customer, gift) in enumerate([(treated[0], cake), (treated[1], tea)]):
        earn(customer, program, 100, key=f"e{n}")
        reward_redeem(actor=rm, customer=customer, reward=gift, key=f"r{n}")
    campaign_conversions_record(campaign=campaign)
    assert _converted(campaign) == {treated[1].pk: noon + DAY}


def test_a_campaign_past_its_window_is_finished_after_a_last_pass(noon, time_machine):
    campaign, treated, _control = _launched(noon)
    TransactionFactory(customer=treated[0], occurred_at=noon + 29 * DAY)
    time_machine.move_to(noon + 29 * DAY, tick=False)
    campaigns_conversions_task.apply()
    assert Campaign.objects.get().state == "launched"
    time_machine.move_to(noon + 30 * DAY, tick=False)
    campaigns_conversions_task.apply()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.finished_at) == ("finished", noon + 30 * DAY)
    assert _converted(campaign) == {treated[0].pk: noon + 29 * DAY}
    assert campaigns_conversions_task.apply().get() == {}


def test_conversions_and_results_cost_the_same_queries_for_any_number_of_members(noon):
    def queries(count: int) -> tuple[int, int]:
        campaign, treated, _control = _launched(noon, count=count)
        for customer in treated:
            TransactionFactory(customer=customer, occurred_at=noon + DAY)
        with CaptureQueriesContext(connection) as recorded:
            campaign_conversions_record(campaign=campaign)
        with CaptureQueriesContext(connection) as read:
            campaign_results(campaign=campaign)
        return len(recorded), len(read)

    assert queries(4) == queries(40) == (queries(4)[0], 1)


def test_a_points_bonus_is_credited_once_to_offered_members_who_converted(noon):
    program = bank()
    campaign, treated, control = _launched(noon, program=program)
    TransactionFactory(customer=treated[0], occurred_at=noon + DAY)
    TransactionFactory(customer=control[0], occurred_at=noon + DAY)

    campaign_conversions_record(campaign=campaign)
    campaign_conversions_record(campaign=campaign)

    bonuses = PointsEntry.objects.filter(key__startswith=f"campaign:{campaign.pk}:")
    assert list(bonuses.values_list("account__customer_id", "points", "kind")) == [
        (treated[0].pk, 500, "earn")
    ]
    account = PointsAccount.objects.get(customer=treated[0], program=program)
    assert account.balance == 500
    assert ledger_discrepancies() == []


def test_a_points_bonus_needs_a_program(noon):
    campaign = due_campaign(noon, state=Campaign.State.DRAFT, program=None)
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "program" in error.value.message_dict
