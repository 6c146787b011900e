"""Campaign launch: once, with a reproducible control group, every message through the outbox."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CustomerFactory
from tests.workflows.campaigns import due_campaign
from tests.workflows.conftest import consenting_customer, sent_ids
from workflows.campaigns.launch import campaign_launch, campaigns_launch_due, control_bucket
from workflows.campaigns.results import campaign_results
from workflows.models import Campaign, CampaignMember, Message
from workflows.outbox.dispatch import outbox_dispatch
from workflows.tasks import campaigns_launch_task

pytestmark = pytest.mark.django_db


def test_a_due_campaign_is_launched_once_however_often_the_task_runs(noon):
    customers = CustomerFactory.create_batch(12)
    campaign = due_campaign(noon, control_share=Decimal("0.25"))
    assert campaigns_launch_task.apply().get() == {str(campaign.pk): 12}
    members = list(CampaignMember.objects.values_list("customer_id", "is_control", "message_id"))
    messages = list(Message.objects.values_list("pk", "key"))
    CustomerFactory()  # joins the segment after the launch: not a member
    assert campaigns_launch_task.apply().get() == {}
    assert campaign_launch(campaign_id=campaign.pk) is None
    assert list(CampaignMember.objects.values_list("customer_id", "is_control", "message_id")) == (
        members
    )
    assert list(Message.objects.values_list("pk", "key")) == messages
    campaign.refresh_from_db()
    assert (campaign.state, campaign.launched_at) == ("launched", noon)
    assert {m.customer_id for m in CampaignMember.objects.all()} == {c.pk for c in customers}


def test_a_campaign_not_yet_due_or_still_a_draft_is_not_launched(noon):
    CustomerFactory()
    due_campaign(noon, scheduled_at=noon.replace(hour=13))
    due_campaign(noon, state=Campaign.State.DRAFT)
    assert campaigns_launch_due() == {}
    assert not CampaignMember.objects.exists()
    assert not Message.objects.exists()


def test_only_the_segments_customers_are_members(noon):
    students = CustomerFactory.create_batch(3, is_student=True)
    CustomerFactory.create_batch(2, is_student=False)
    due_campaign(noon, definition={"is_student": "true"}, control_share=Decimal("0"))
    campaigns_launch_due()
    assert {m.customer_id for m in CampaignMember.objects.all()} == {c.pk for c in students}


def test_the_control_group_is_about_the_share_and_the_same_as_computed_in_python(noon):
    customers = CustomerFactory.create_batch(400)
    campaign = due_campaign(noon, control_share=Decimal("0.25"))
    campaigns_launch_due()
    control = set(
        CampaignMember.objects.filter(is_control=True).values_list("customer_id", flat=True)
    )
    expected = {
        c.pk for c in customers if control_bucket(campaign_id=campaign.pk, customer_id=c.pk) < 250
    }
    assert control == expected
    assert 60 <= len(control) <= 140  # 25% of 400 is 100


def test_control_groups_differ_between_campaigns(noon):
    CustomerFactory.create_batch(200)
    first = due_campaign(noon, control_share=Decimal("0.5"))
    second = due_campaign(noon, control_share=Decimal("0.5"))
    campaigns_launch_due()

    def control(campaign):
        return set(
            CampaignMember.objects.filter(campaign=campaign, is_control=True).values_list(
                "customer_id", flat=True
            )
        )

    assert control(first) != control(second)


def test_control_members_get_no_message_and_the_others_one_each(noon):
    CustomerFactory.create_batch(30)
    campaign = due_campaign(noon, control_share=Decimal("0.5"))
    campaigns_launch_due()
    control = CampaignMember.objects.filter(is_control=True)
    treated = CampaignMember.objects.filter(is_control=False)
    assert control.exists()
    assert treated.exists()
    assert not control.filter(message__isnull=False).exists()
    assert not Message.objects.filter(customer__in=control.values("customer_id")).exists()
    assert set(treated.values_list("message__customer_id", flat=True)) == set(
        treated.values_list("customer_id", flat=True)
    )
    assert set(Message.objects.values_list("occasion", "purpose", "offer_kind")) == {
        (f"campaign:{campaign.pk}", "marketing", "reward")
    }


def test_the_outboxs_rules_still_refuse_a_loan_to_a_student(outbox_file, noon):
    student = consenting_customer(is_student=True)
    adult = consenting_customer(is_student=False)
    no_consent = CustomerFactory()
    due_campaign(
        noon,
        offer_kind="loan",
        offer={"product": "consumer loan"},
        control_share=Decimal("0"),
        expires_at=noon.replace(day=20),
    )
    campaigns_launch_due()
    outbox_dispatch()
    states = {m.customer_id: (m.state, m.refusal) for m in Message.objects.all()}
    assert states == {
        student.pk: ("refused", "student"),
        adult.pk: ("sent", ""),
        no_consent.pk: ("refused", "no_consent"),
    }
    assert sent_ids(outbox_file) == [Message.objects.get(customer=adult).pk]
    assert Message.objects.get(customer=adult).expires_at == noon.replace(day=20)
    results = campaign_results(campaign=Campaign.objects.get())
    assert (results.members, results.control, results.sent) == (3, 0, 1)
    assert dict(results.refused) == {"student": 1, "no_consent": 1}


def test_a_launch_costs_the_same_queries_for_a_small_and_a_large_segment(noon):
    def launch_queries(count: int) -> int:
        CustomerFactory.create_batch(count)
        campaign = due_campaign(noon)
        with CaptureQueriesContext(connection) as queries:
            campaign_launch(campaign_id=campaign.pk)
        return len(queries)

    assert launch_queries(2) == launch_queries(40)
