"""Campaigns in admin: a supervisor creates and schedules; launched campaigns are read-only with
their results; members are listed per crm's visibility rule with constant queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Segment
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory
from tests.workflows.campaigns import campaign_template, due_campaign
from workflows.campaigns.launch import campaigns_launch_due
from workflows.models import Campaign, CampaignMember

pytestmark = pytest.mark.django_db
CAMPAIGNS = reverse("admin:workflows_campaign_changelist")
ADD = reverse("admin:workflows_campaign_add")
MEMBERS = reverse("admin:workflows_campaignmember_changelist")


def _form(segment, **fields):
    values = {
        "name": "Spring travel",
        "segment": segment.pk,
        "offer_kind": "reward",
        "offer": '{"points": 500}',
        "program": ProgramFactory(code="bank").pk,
        "channel": "sms",
        "template_code": "spring",
        "scheduled_at_0": "2026-06-11",
        "scheduled_at_1": "09:00:00",
        "expires_at_0": "",
        "expires_at_1": "",
        "control_share": "0.1",
        "conversion_days": "30",
        "conversion_rule": "category_purchase",
        "conversion_category": "travel",
    }
    return {**values, **fields}


def test_a_supervisor_creates_a_draft_and_schedules_it(client, supervisor):
    campaign_template()
    segment = Segment.objects.create(name="all")
    client.force_login(supervisor)
    assert client.post(ADD, _form(segment)).status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.state, campaign.created_by, campaign.offer) == (
        "draft",
        supervisor,
        {"points": 500},
    )
    assert timezone.localtime(campaign.scheduled_at).strftime("%Y-%m-%d %H:%M") == (
        "2026-06-11 09:00"
    )
    client.post(CAMPAIGNS, {"action": "schedule", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.state == "scheduled"
    client.post(CAMPAIGNS, {"action": "unschedule", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.state == "draft"


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"offer": '{"points": -5}'}, "offer"),
        ({"offer": '{"points": 5, "reward": 1}'}, "offer"),
        ({"offer": '{"reward": 999}'}, "offer"),
        ({"offer": '{"product": "loan"}'}, "offer_kind"),
        ({"control_share": "0.6"}, "control_share"),
        ({"conversion_category": ""}, "conversion_category"),
        ({"conversion_rule": "redemption", "conversion_category": ""}, "conversion_rule"),
    ],
)
def test_a_bad_campaign_is_refused_and_nothing_is_saved(client, supervisor, fields, error_field):
    segment = Segment.objects.create(name="all")
    client.force_login(supervisor)
    response = client.post(ADD, _form(segment, **fields))
    assert response.status_code == 200
    assert error_field in response.context["adminform"].form.errors
    assert not Campaign.objects.exists()


def test_a_campaign_without_its_template_cannot_be_scheduled(client, supervisor, noon):
    campaign = due_campaign(noon, state=Campaign.State.DRAFT, template_code="missing")
    client.force_login(supervisor)
    response = client.post(
        CAMPAIGNS, {"action": "schedule", "_selected_action": [campaign.pk]}, follow=True
    )
    assert "No active message template" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.state == "draft"


def test_a_launched_campaign_is_read_only_and_shows_its_results(client, supervisor, noon):
    CustomerFactory.create_batch(10)
    campaign = due_campaign(noon, control_share=Decimal("0.5"))
    campaigns_launch_due()
    control = CampaignMember.objects.filter(is_control=True).count()
    client.force_login(supervisor)
    url = reverse("admin:workflows_campaign_change", args=[campaign.pk])
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<th>Members</th><td>10</td>" in page
    assert f"<th>Control group (no message)</th><td>{control}</td>" in page
    assert 'name="name"' not in page  # no form fields: read-only
    assert client.post(url, {"name": "renamed"}).status_code == 403
    assert Campaign.objects.get().name == campaign.name


def test_an_rm_cannot_run_campaigns(client, rm):
    client.force_login(rm)
    assert client.get(CAMPAIGNS).status_code == 403
    assert client.get(ADD).status_code == 403


def test_an_rm_sees_only_their_customers_memberships(client, rm, foreign_rm, noon):
    mine = CustomerFactory(owner=rm)
    theirs = CustomerFactory(owner=foreign_rm)
    due_campaign(noon, control_share=Decimal("0"))
    campaigns_launch_due()
    client.force_login(rm)
    response = client.get(MEMBERS)
    assert [row.customer_id for row in response.context["cl"].result_list] == [mine.pk]
    other = CampaignMember.objects.get(customer=theirs)
    change = reverse("admin:workflows_campaignmember_change", args=[other.pk])
    assert client.get(change).status_code == 404


def test_the_member_list_costs_the_same_queries_for_few_and_many(client, supervisor, noon):
    def queries() -> int:
        with CaptureQueriesContext(connection) as recorded:
            assert client.get(MEMBERS).status_code == 200
        return len(recorded)

    client.force_login(supervisor)
    owner_team = supervisor.teammembership_set.get().team
    CustomerFactory.create_batch(3, team=owner_team)
    due_campaign(noon, control_share=Decimal("0.5"))
    campaigns_launch_due()
    few = queries()
    CustomerFactory.create_batch(40, team=owner_team)
    due_campaign(noon, control_share=Decimal("0.5"))
    campaigns_launch_due()
    assert queries() == few
