"""The tier admin, as a supervisor tunes it and an RM reads it."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from loyalty.models import Condition, CriterionGroup, Program, Tier

pytestmark = pytest.mark.django_db

MODELS = ("program", "tier", "criteriongroup", "condition")


@pytest.fixture
def seeded(db):
    call_command("seed_programs")


@pytest.mark.parametrize("model", MODELS)
def test_supervisor_opens_the_list_the_add_page_and_a_change_page(
    client, supervisor, seeded, model
):
    client.force_login(supervisor)
    instance = {
        "program": Program.objects.first,
        "tier": Tier.objects.first,
        "criteriongroup": CriterionGroup.objects.first,
        "condition": Condition.objects.first,
    }[model]()
    for url in (
        reverse(f"admin:loyalty_{model}_changelist"),
        reverse(f"admin:loyalty_{model}_add"),
        reverse(f"admin:loyalty_{model}_change", args=[instance.pk]),
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("model", MODELS)
def test_rm_may_look_but_not_add(client, rm, seeded, model):
    client.force_login(rm)
    assert client.get(reverse(f"admin:loyalty_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:loyalty_{model}_add")).status_code == 403


def test_condition_with_an_unknown_parameter_is_refused_in_the_form(client, supervisor, seeded):
    group = CriterionGroup.objects.filter(conditions__metric="spend").first()
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:loyalty_condition_add"),
        {
            "group": group.pk,
            "metric": "spend",
            "window_months": "12",
            "operator": ">=",
            "threshold": "1000",
            "parameters": '{"merchant": "Starbucks"}',
        },
    )
    assert response.status_code == 200
    assert "does not take the parameters: merchant" in response.content.decode()
    assert not Condition.objects.filter(threshold=1000).exists()
