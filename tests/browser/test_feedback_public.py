"""End to end in a real browser, on a phone: a customer answers a personal feedback link, then
their RM finds the answer on the customer's timeline in the admin, and the supervisor in the
feedback dashboard. A screenshot of each page
goes to var/screenshots/."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from crm.models import Interaction
from tests.factories import CustomerFactory
from tests.workflows.feedback_factories import published_form
from workflows.feedback.links import invitation_path
from workflows.feedback.reading.score import answers_score
from workflows.feedback.reading.seeds import feedback_rules_seed
from workflows.models import FeedbackInvitation, FeedbackResponse

pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD = "admin:workflows_feedbackresponse_dashboard"
CHINESE_TEXT = "客服态度很好，但是快递太慢了，希望改进配送。"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def personal_link(version, customer, **kwargs) -> str:
    invitation = FeedbackInvitation.objects.create(
        form=version.form,
        customer=customer,
        occasion="ticket:77",
        expires_at=timezone.now() + timedelta(days=30),
    )
    return invitation_path(form_slug=version.form.slug, invitation_id=invitation.pk, **kwargs)


def test_a_customer_answers_on_a_phone_and_the_staff_see_it_in_the_admin(
    page: Page, browser: Browser, live_server, rm, supervisor, screenshot_dir
):
    version = published_form(title_en="How did we do?")
    nps = version.questions[0]["id"]
    long_text = version.questions[-1]["id"]
    customer = CustomerFactory(owner=rm, name="王小明")
    url = live_server.url + personal_link(version, customer)

    # The form, on a phone.
    opened = page.goto(url)
    assert opened.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("How did we do?")
    assert page.viewport_size == {"width": 390, "height": 844}
    # The NPS scale fits the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "feedback-form.png", full_page=True)

    # The required NPS question skipped: the error is next to it, and summarised on top.
    page.locator(f"#id_{long_text}").fill(CHINESE_TEXT)
    page.get_by_role("button", name="Send my answers").click()
    error = page.locator(f".question-nps #{nps}-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Please answer this question.")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(f"#id_{nps}_0")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#id_{long_text}")).to_have_value(CHINESE_TEXT)  # kept
    page.screenshot(path=screenshot_dir / "feedback-form-error.png", full_page=True)
    assert not FeedbackResponse.objects.exists()

    # Answered: 9 and the free text; the thank-you page, without the token in the address.
    page.locator(f"label[for='id_{nps}_9']").click()
    expect(page.locator(f"#id_{nps}_9")).to_be_checked()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your feedback")
    assert re.search(r"/f/service/thanks/$", page.url)
    page.screenshot(path=screenshot_dir / "feedback-thanks.png", full_page=True)
    response = FeedbackResponse.objects.get()
    assert response.nps == 9
    assert response.answers.get(question_id=long_text).text == CHINESE_TEXT

    # The link again: a polite "already answered".
    again = page.goto(url)
    assert again.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("You have already answered")
    page.screenshot(path=screenshot_dir / "feedback-already-answered.png", full_page=True)
    assert FeedbackResponse.objects.count() == 1

    # The RM, at their desk, logs into the admin and finds the answer on the timeline.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        admin = desk.new_page()
        admin.goto(f"{live_server.url}/admin/login/?next=/admin/crm/customer/{customer.pk}/change/")
        admin.locator("#id_username").fill(rm.username)
        admin.locator("#id_password").fill("pw-for-tests-123")
        admin.locator("input[type=submit]").click()
        entry = admin.locator("tr", has_text="NPS 9")
        expect(entry).to_be_visible()
        expect(entry).to_contain_text("Feedback")
        expect(entry).to_contain_text("客服态度很好")
        entry.scroll_into_view_if_needed()
        admin.screenshot(path=screenshot_dir / "admin-customer-timeline.png")
    finally:
        desk.close()
    assert Interaction.objects.get().customer_id == customer.pk

    # The worker reads the free text; the supervisor finds the answer in the dashboard.
    feedback_rules_seed()
    assert answers_score() == 1
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        admin = desk.new_page()
        admin.goto(f"{live_server.url}/admin/login/?next={reverse(DASHBOARD)}")
        admin.locator("#id_username").fill(supervisor.username)
        admin.locator("#id_password").fill("pw-for-tests-123")
        admin.locator("input[type=submit]").click()
        this_week = admin.locator("#table-nps tbody tr", has_text="100.0")
        expect(this_week).to_have_count(1)
        expect(this_week.locator("td").nth(1)).to_have_text("1")  # one answer
        expect(admin.locator("#table-topics")).to_contain_text("Delivery")
        # The charts were drawn by the vendored Chart.js (no CDN).
        assert admin.evaluate("typeof Chart") == "function"
        assert admin.locator("canvas").count() >= 1
        admin.screenshot(path=screenshot_dir / "admin-feedback-dashboard.png", full_page=True)
    finally:
        desk.close()


def test_the_form_renders_in_chinese_from_the_link(page: Page, live_server, screenshot_dir):
    version = published_form()
    nps = version.questions[0]["id"]
    url = live_server.url + personal_link(version, CustomerFactory(), language="zh-hans")

    opened = page.goto(url)

    assert opened.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("请评价我们的服务")
    expect(page.locator(".question-nps legend")).to_contain_text("您向朋友推荐我们的可能性有多大？")
    expect(page.locator(".question-single")).to_contain_text("手机银行")
    page.screenshot(path=screenshot_dir / "feedback-form-zh-hans.png", full_page=True)

    # The language survives the post: the error page and the thank-you page stay Chinese.
    page.get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(f"#{nps}-error")).to_be_visible()
    page.locator(f"label[for='id_{nps}_10']").click()
    page.get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/f/service/thanks/\?lang=zh-hans$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.screenshot(path=screenshot_dir / "feedback-thanks-zh-hans.png", full_page=True)
    assert FeedbackResponse.objects.get().language == "zh-hans"


def test_the_form_works_with_the_keyboard_alone(page: Page, live_server):
    version = published_form()
    nps = version.questions[0]["id"]
    url = live_server.url + personal_link(version, CustomerFactory())
    page.goto(url)

    # Tab to the first NPS option (past the skip link), choose 8 with the arrow keys.
    page.locator(f"#id_{nps}_0").focus()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    expect(page.locator(f"#id_{nps}_8")).to_be_checked()
    outline = page.evaluate(
        "getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert outline == "solid"  # the focus is visible on the drawn button
    page.locator(".submit").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your feedback")
    assert FeedbackResponse.objects.get().nps == 8
