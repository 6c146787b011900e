"""Other apps add their panels to the customer's page through crm's registry."""

import copy

import pytest
from django.urls import reverse

from crm import panels
from tests.factories import CustomerFactory


@pytest.fixture
def loyalty_like_panel(tmp_path, settings):
    (tmp_path / "tier_panel.html").write_text("<p>Tier of {{ customer.name }}: {{ tier }}</p>")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    settings.TEMPLATES = templates
    panel = panels.Panel(
        key="test_tier",
        title="Tier",
        template="tier_panel.html",
        get_context=lambda customer, request: {"tier": "3 stars"},
        order=5,
    )
    panels.register_panel(panel)
    yield panel
    panels.unregister_panel(panel.key)


@pytest.mark.django_db
def test_a_registered_panel_appears_on_the_customer_page_in_its_order(
    client, rm, loyalty_like_panel
):
    customer = CustomerFactory(owner=rm, name="钱多多")
    client.force_login(rm)
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert "Tier of 钱多多: 3 stars" in page
    assert page.index("Tier of 钱多多") < page.index('id="panel-source_records"')
