"""The public feedback pages through the test client: personal and open links, every refusal
with a clear page, its status and nothing written; CSRF, honeypot, rate limits, language."""

import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Interaction
from tests.factories import CustomerFactory
from tests.workflows.feedback_factories import published_form
from workflows.feedback.links import invitation_path, invitation_token
from workflows.feedback.versions import form_publish
from workflows.models import FeedbackAnswer, FeedbackInvitation, FeedbackResponse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The counters live in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()


def ids(version) -> dict[str, str]:
    return {question["kind"]: question["id"] for question in version.questions}


def invitation_for(version, **fields) -> FeedbackInvitation:
    return FeedbackInvitation.objects.create(
        form=version.form,
        customer=fields.pop("customer", None) or CustomerFactory(),
        occasion=fields.pop("occasion", "ticket:1"),
        expires_at=fields.pop("expires_at", timezone.now() + timedelta(days=30)),
        **fields,
    )


def link(invitation, **kwargs) -> str:
    return invitation_path(form_slug=invitation.form.slug, invitation_id=invitation.pk, **kwargs)


def nothing_written() -> bool:
    return not (
        FeedbackResponse.objects.exists()
        or FeedbackAnswer.objects.exists()
        or Interaction.objects.exists()
    )


def text(response) -> str:
    return response.content.decode()


# --- Personal links ---------------------------------------------------------------------------


def test_a_personal_link_shows_the_form_and_takes_the_answer(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)

    page = client.get(link(invitation))
    assert page.status_code == 200
    html = text(page)
    assert "How likely are you to recommend us to a friend?" in html
    assert '<html lang="en">' in html
    assert f'name="{q["nps"]}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "no-store" in page["Cache-Control"]
    assert page["X-Robots-Tag"].startswith("noindex")

    answer = client.post(
        link(invitation),
        {q["nps"]: "9", q["multiple"]: ["1", "3"], q["long_text"]: "很好"},
    )

    assert answer.status_code == 303
    assert answer["Location"] == reverse("feedback:thanks", kwargs={"slug": "service"})
    assert invitation_token(invitation.pk) not in answer["Location"]
    assert "no-store" in answer["Cache-Control"]
    response = FeedbackResponse.objects.get()
    assert (response.nps, response.customer_id) == (9, invitation.customer_id)
    assert response.answers.get(question_id=q["multiple"]).choices == ["1", "3"]
    thanks = client.get(answer["Location"])
    assert thanks.status_code == 200
    assert "Thank you for your feedback" in text(thanks)


def test_a_missing_required_answer_is_shown_next_to_the_field_and_writes_nothing(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)

    page = client.post(link(invitation), {q["csat"]: "4", q["long_text"]: "keep this"})

    assert page.status_code == 200
    html = text(page)
    assert 'class="error-summary"' in html
    assert f'href="#id_{q["nps"]}_0"' in html
    assert f'id="{q["nps"]}-error"' in html
    assert "Please answer this question." in html
    # Each NPS radio points at the error; what was typed is kept.
    assert re.search(rf'aria-describedby="{q["nps"]}-scale {q["nps"]}-error"', html)
    assert 'aria-invalid="true"' in html
    assert "keep this" in html
    assert nothing_written()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_an_invalid_choice_is_refused_with_a_message(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)

    page = client.post(link(invitation), {q["nps"]: "11"})

    assert page.status_code == 200
    assert f'id="{q["nps"]}-error"' in text(page)
    assert nothing_written()


def test_answered_twice_gets_a_polite_410_and_changes_nothing(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    client.post(link(invitation), {q["nps"]: "9"})

    again_get = client.get(link(invitation))
    again_post = client.post(link(invitation), {q["nps"]: "0"})

    for page in (again_get, again_post):
        assert page.status_code == 410
        assert "You have already answered" in text(page)
        assert "no-store" in page["Cache-Control"]
    assert FeedbackResponse.objects.get().nps == 9
    assert FeedbackAnswer.objects.count() == 1


def test_an_expired_link_gets_410_and_writes_nothing(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version, expires_at=timezone.now() - timedelta(minutes=1))

    seen = client.get(link(invitation))
    posted = client.post(link(invitation), {q["nps"]: "9"})

    for page in (seen, posted):
        assert page.status_code == 410
        assert "This link has expired" in text(page)
    assert nothing_written()


def test_a_tampered_token_gets_the_invalid_link_page(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    token = invitation_token(invitation.pk)
    other_id = invitation.pk + 1
    forged = f"{other_id}:{token.split(':', 1)[1]}"

    for bad in (forged, token[:-2] + "xx", "not-a-token"):
        path = reverse("feedback:personal", kwargs={"slug": "service", "token": bad})
        for page in (client.get(path), client.post(path, {q["nps"]: "9"})):
            assert page.status_code == 404
            assert "This link does not work" in text(page)
    assert nothing_written()


def test_a_link_of_another_form_gets_the_invalid_link_page(client):
    service = published_form(slug="service")
    published_form(slug="branch")
    invitation = invitation_for(service)
    path = reverse(
        "feedback:personal", kwargs={"slug": "branch", "token": invitation_token(invitation.pk)}
    )

    page = client.post(path, {ids(service)["nps"]: "9"})

    assert page.status_code == 404
    assert "This link does not work" in text(page)
    assert nothing_written()


def test_an_inactive_or_unpublished_form_gets_a_friendly_404(client):
    version = published_form()
    invitation = invitation_for(version)
    version.form.is_active = False
    version.form.save(update_fields=["is_active"])

    closed = client.get(link(invitation))
    unknown = client.get(reverse("feedback:open", kwargs={"slug": "nope"}))

    for page in (closed, unknown):
        assert page.status_code == 404
        assert "This form is not available" in text(page)


def test_the_answer_refers_to_the_version_current_when_posted(client):
    first = published_form()
    invitation = invitation_for(first)
    form_publish(form=first.form)

    client.post(link(invitation), {ids(first)["nps"]: "7"})

    assert FeedbackResponse.objects.get().version.number == 2


# --- Open links -------------------------------------------------------------------------------


def test_an_open_link_takes_anonymous_answers_with_optional_contact(client):
    version = published_form(open_link=True, ask_contact=True)
    q = ids(version)
    path = reverse("feedback:open", kwargs={"slug": "service"})

    page = client.get(path)
    assert page.status_code == 200
    assert 'name="contact_phone"' in text(page)
    bad = client.post(path, {q["nps"]: "5", "contact_phone": "123"})
    assert bad.status_code == 200
    assert 'id="contact_phone-error"' in text(bad)
    assert nothing_written()

    good = client.post(
        path, {q["nps"]: "5", "contact_name": "张三", "contact_phone": "13800138000"}
    )

    assert good.status_code == 303
    response = FeedbackResponse.objects.get()
    assert response.customer_id is None
    assert response.invitation_id is None
    assert response.contact_phone == "+8613800138000"
    assert not Interaction.objects.exists()


def test_a_form_without_open_link_has_no_open_page(client):
    version = published_form(open_link=False)
    path = reverse("feedback:open", kwargs={"slug": "service"})

    assert client.get(path).status_code == 404
    assert client.post(path, {ids(version)["nps"]: "5"}).status_code == 404
    assert nothing_written()


def test_the_honeypot_filled_looks_like_success_and_writes_nothing(client):
    version = published_form(open_link=True)
    path = reverse("feedback:open", kwargs={"slug": "service"})

    page = client.post(path, {ids(version)["nps"]: "5", "website": "http://spam.example"})

    assert page.status_code == 303
    assert page["Location"] == reverse("feedback:thanks", kwargs={"slug": "service"})
    assert nothing_written()


def test_the_honeypot_is_hidden_from_people(client):
    published_form(open_link=True)

    html = text(client.get(reverse("feedback:open", kwargs={"slug": "service"})))

    honeypot = re.search(r'<div class="hp" aria-hidden="true">(.*?)</div>', html, re.S)
    assert honeypot is not None
    assert 'name="website"' in honeypot.group(1)
    assert 'tabindex="-1"' in honeypot.group(1)
    assert 'autocomplete="off"' in honeypot.group(1)


def test_posts_over_the_per_ip_limit_get_429_and_write_nothing(client, settings):
    settings.WORKFLOWS_FEEDBACK_POSTS_PER_IP = 3
    version = published_form(open_link=True)
    path = reverse("feedback:open", kwargs={"slug": "service"})
    for _ in range(3):
        assert client.post(path, {"website": "bot"}).status_code == 303

    page = client.post(path, {ids(version)["nps"]: "5"})

    assert page.status_code == 429
    assert page["Retry-After"] == "60"
    assert "Too many attempts" in text(page)
    assert nothing_written()
    # Another address is counted on its own.
    assert client.post(path, {"website": "bot"}, REMOTE_ADDR="10.0.0.9").status_code == 303


def test_posts_over_the_per_token_limit_get_429_and_write_nothing(client, settings):
    settings.WORKFLOWS_FEEDBACK_POSTS_PER_TOKEN = 2
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    for address in ("10.0.0.1", "10.0.0.2"):
        client.post(link(invitation), {q["csat"]: "3"}, REMOTE_ADDR=address)  # invalid: no NPS

    page = client.post(link(invitation), {q["nps"]: "9"}, REMOTE_ADDR="10.0.0.3")

    assert page.status_code == 429
    assert nothing_written()


def test_a_post_without_the_csrf_token_is_refused():
    version = published_form()
    invitation = invitation_for(version)
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post(link(invitation), {ids(version)["nps"]: "9"})

    assert refused.status_code == 403
    assert nothing_written()
    page = browser.get(link(invitation))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(page)).group(1)
    accepted = browser.post(
        link(invitation), {ids(version)["nps"]: "9", "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 303


# --- Language ---------------------------------------------------------------------------------


def test_the_language_of_the_link_is_kept_across_the_post(client):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    path = link(invitation, language="zh-hans")

    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    html = text(page)
    assert '<html lang="zh-Hans">' in html
    assert "您向朋友推荐我们的可能性有多大？" in html
    assert f'action="{path}"' in html
    error = client.post(path, {q["csat"]: "4"}, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-Hans">' in text(error)
    assert f'id="{q["nps"]}-error"' in text(error)

    done = client.post(path, {q["nps"]: "8"}, HTTP_ACCEPT_LANGUAGE="en")

    assert done["Location"].endswith("/thanks/?lang=zh-hans")
    assert FeedbackResponse.objects.get().language == "zh-hans"


def test_without_lang_the_browser_language_is_used(client):
    version = published_form()
    invitation = invitation_for(version)

    chinese = text(client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    english = text(client.get(link(invitation), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))

    assert '<html lang="zh-Hans">' in chinese
    assert "您向朋友推荐我们的可能性有多大？" in chinese
    assert '<html lang="en">' in english
    assert "How likely are you to recommend us to a friend?" in english


def test_an_unknown_lang_falls_back_to_the_browser(client):
    version = published_form()
    invitation = invitation_for(version)

    html = text(client.get(link(invitation) + "?lang=fr", HTTP_ACCEPT_LANGUAGE="en"))

    assert '<html lang="en">' in html


# --- Concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a race needs PostgreSQL's locks")
def test_twenty_concurrent_posts_of_one_link_store_one_answer(settings):
    settings.WORKFLOWS_FEEDBACK_POSTS_PER_IP = 100
    settings.WORKFLOWS_FEEDBACK_POSTS_PER_TOKEN = 100
    version = published_form()
    invitation = invitation_for(version)
    path, nps = link(invitation), ids(version)["nps"]
    barrier = threading.Barrier(20)
    statuses: Counter = Counter()
    lock = threading.Lock()

    def post(score: int) -> None:
        try:
            browser = Client()
            barrier.wait()
            status = browser.post(path, {nps: str(score)}).status_code
            with lock:
                statuses[status] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n % 11,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == {303: 1, 410: 19}
    assert FeedbackResponse.objects.count() == 1
    assert Interaction.objects.count() == 1
    assert FeedbackAnswer.objects.count() == 1
