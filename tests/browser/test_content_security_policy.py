"""Under the strict Content-Security-Policy the pages still work in a real browser: the admin,
its chart pages, the public feedback form and the API docs (Swagger UI), with no violation."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from tests.factories import CustomerFactory, UserFactory
from tests.workflows.feedback_factories import published_form

pytestmark = pytest.mark.django_db(transaction=True)


def _violations(page) -> list[str]:
    messages: list[str] = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    return messages


def test_admin_charts_feedback_form_and_api_docs_run_under_the_policy(
    browser: Browser, live_server, rm, screenshot_dir
):
    root = UserFactory(username="root", is_superuser=True)
    customer = CustomerFactory(owner=rm)
    version = published_form(title_en="How did we do?")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page = desk.new_page()
        violations = _violations(page)
        page.goto(f"{live_server.url}/admin/login/")
        page.locator("#id_username").fill(root.username)
        page.locator("#id_password").fill("pw-for-tests-123")
        page.locator("input[type=submit]").click()
        expect(page.locator("#user-tools")).to_contain_text("root")

        page.goto(f"{live_server.url}/admin/crm/customer/{customer.pk}/change/")
        expect(page.locator("#content")).to_be_visible()

        page.goto(live_server.url + reverse("admin:workflows_ticket_reports"))
        assert page.evaluate("typeof Chart") == "function"
        page.wait_for_function("document.querySelectorAll('canvas').length > 0")

        page.goto(
            live_server.url
            + reverse("admin:workflows_feedbackform_preview", args=[version.form.pk, 1])
        )
        expect(page.locator("#content")).to_be_visible()

        page.goto(f"{live_server.url}/api/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Loyalty CRM API")
        page.screenshot(path=screenshot_dir / "api-docs.png")
        assert violations == []
    finally:
        desk.close()
