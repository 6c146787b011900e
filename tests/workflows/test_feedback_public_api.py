"""The feedback API: forms (read), responses (filtered, scoped like customers, no N+1) and the
submission for apps that embed a form (idempotent, errors per question, nothing half-stored)."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from crm.models import Interaction
from tests.factories import CustomerFactory, UserFactory
from tests.workflows.feedback_factories import published_form
from workflows.feedback.submission import response_submit
from workflows.models import FeedbackAnswer, FeedbackResponse
from workflows.models.feedback import ServiceStep

pytestmark = pytest.mark.django_db

FORMS = "/api/v1/feedback/forms/"
RESPONSES = "/api/v1/feedback/responses/"


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def client_for(user) -> APIClient:
    client = APIClient()
    _token, key = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def ids(version) -> dict[str, str]:
    return {question["kind"]: question["id"] for question in version.questions}


@pytest.fixture
def reader(rm):
    grant(rm, "view_feedbackform", "view_feedbackresponse")
    return rm


@pytest.fixture
def app_user(db):
    """An app that embeds forms: sees every customer, may store answers."""
    user = UserFactory(username="mobile_app", is_staff=False)
    grant(user, "view_all_customers", "view_feedbackform", "add_feedbackresponse")
    return user


# --- Forms ------------------------------------------------------------------------------------


def test_forms_list_shows_published_active_forms_with_their_questions(reader):
    version = published_form()
    published_form(slug="old", is_active=False)

    body = client_for(reader).get(FORMS).json()

    assert [form["slug"] for form in body["results"]] == ["service"]
    form = body["results"][0]
    assert form["current_version"]["number"] == version.number
    nps = form["current_version"]["questions"][0]
    assert nps["kind"] == "nps"
    assert nps["text"] == {
        "en": "How likely are you to recommend us to a friend?",
        "zh-hans": "您向朋友推荐我们的可能性有多大？",
    }
    single = form["current_version"]["questions"][2]
    assert single["choices"][1] == {"value": "2", "label": {"en": "App", "zh-hans": "手机银行"}}


def test_form_detail_by_slug_and_404_for_unknown(reader):
    published_form()
    client = client_for(reader)

    assert client.get(f"{FORMS}service/").json()["slug"] == "service"
    assert client.get(f"{FORMS}nope/").status_code == 404


def test_forms_need_the_view_permission(db):
    published_form()
    staff_without_a_role = UserFactory(username="no_role")

    assert client_for(staff_without_a_role).get(FORMS).status_code == 403


# --- Responses --------------------------------------------------------------------------------


def test_an_rm_lists_only_their_customers_responses(reader, other_rm):
    version = published_form()
    q = ids(version)
    mine = response_submit(
        version=version, customer=CustomerFactory(owner=reader), data={q["nps"]: 9}
    )
    response_submit(version=version, customer=CustomerFactory(owner=other_rm), data={q["nps"]: 2})
    response_submit(version=version, data={q["nps"]: 5})  # anonymous

    body = client_for(reader).get(RESPONSES).json()

    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["answers"][0] == {
        "question_id": q["nps"],
        "kind": "nps",
        "score": 9,
        "choices": [],
        "text": "",
        "text_language": "",
        "sentiment": None,
        "topics": [],
    }


def test_responses_filter_by_form_step_customer_time_and_nps(reader):
    service = published_form(slug="service", service_step=ServiceStep.TICKET)
    branch = published_form(slug="branch", service_step=ServiceStep.BRANCH_VISIT)
    alice, bob = CustomerFactory(owner=reader), CustomerFactory(owner=reader)
    low = response_submit(version=service, customer=alice, data={ids(service)["nps"]: 3})
    high = response_submit(version=branch, customer=bob, data={ids(branch)["nps"]: 10})
    FeedbackResponse.objects.filter(pk=low.pk).update(
        submitted_at=timezone.now() - timedelta(days=10)
    )
    client = client_for(reader)

    def found(**query) -> list[int]:
        answer = client.get(RESPONSES, query)
        assert answer.status_code == 200, answer.json()
        return [row["id"] for row in answer.json()["results"]]

    assert found(form="branch") == [high.pk]
    assert found(service_step="ticket") == [low.pk]
    assert found(customer=alice.pk) == [low.pk]
    assert found(nps_min=9) == [high.pk]
    assert found(nps_max=6) == [low.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert found(submitted_from=since) == [high.pk]
    assert found(submitted_before=since) == [low.pk]
    assert client.get(RESPONSES, {"nps_min": 11}).status_code == 400


def test_responses_list_costs_the_same_for_one_or_many(reader, django_assert_num_queries):
    version = published_form()
    q = ids(version)
    customer = CustomerFactory(owner=reader)
    client = client_for(reader)

    response_submit(version=version, customer=customer, data={q["nps"]: 9, q["long_text"]: "好"})
    # token (2), permissions (2), supervised teams (1), responses with form and version (1),
    # answers (1), their topics (1)
    with django_assert_num_queries(8):
        assert len(client.get(RESPONSES).json()["results"]) == 1
    for n in range(5):
        response_submit(
            version=version, customer=customer, data={q["nps"]: n, q["multiple"]: ["1", "2"]}
        )
    with django_assert_num_queries(8):
        assert len(client.get(RESPONSES).json()["results"]) == 6


def test_anonymous_contact_details_are_masked_for_those_who_may_not_see_contacts(db):
    version = published_form(open_link=True, ask_contact=True)
    response_submit(
        version=version,
        data={ids(version)["nps"]: 7},
        contact={"name": "张三", "phone": "13800138000", "email": "zs@example.com"},
    )
    viewer = UserFactory(username="analyst")
    grant(viewer, "view_all_customers", "view_feedbackresponse")

    row = client_for(viewer).get(RESPONSES).json()["results"][0]

    assert row["contact_phone"] == "138****8000"
    assert row["contact_email"] == "z***@example.com"
    assert row["customer"] is None


# --- Submission -------------------------------------------------------------------------------


def submit(client, slug="service", key="k-1", **body):
    return client.post(f"{FORMS}{slug}/responses/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_an_app_submits_answers_for_a_customer(app_user):
    version = published_form()
    q = ids(version)
    customer = CustomerFactory()

    answer = submit(
        client_for(app_user),
        answers={q["nps"]: 9, q["csat"]: "5", q["multiple"]: ["3"], q["long_text"]: "物流很快"},
        customer=customer.pk,
        language="zh-hans",
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["nps"], body["csat"], body["customer"], body["version"]) == (9, 5, customer.pk, 1)
    response = FeedbackResponse.objects.get()
    assert response.language == "zh-hans"
    assert response.interaction.customer_id == customer.pk


def test_the_same_key_replays_and_stores_once(app_user):
    version = published_form()
    client = client_for(app_user)
    body = {"answers": {ids(version)["nps"]: 9}, "customer": CustomerFactory().pk}

    first = submit(client, **body)
    again = submit(client, **body)
    other = submit(client, **{**body, "answers": {ids(version)["nps"]: 1}})

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    assert FeedbackResponse.objects.count() == 1
    assert Interaction.objects.count() == 1


def test_invalid_answers_come_back_per_question_and_store_nothing(app_user):
    version = published_form()
    q = ids(version)
    client, customer = client_for(app_user), CustomerFactory()

    answer = submit(client, answers={q["nps"]: 12, q["single"]: "9"}, customer=customer.pk)

    assert answer.status_code == 400
    assert set(answer.json()["answers"]) == {q["nps"], q["single"]}
    assert not FeedbackResponse.objects.exists()
    assert not FeedbackAnswer.objects.exists()
    assert not Interaction.objects.exists()
    # Nothing stored under the key either: the corrected answer with it goes through.
    assert submit(client, answers={q["nps"]: 8}, customer=customer.pk).status_code == 201


def test_a_customer_the_caller_may_not_see_is_refused(rm, other_rm):
    grant(rm, "add_feedbackresponse")
    version = published_form()

    answer = submit(
        client_for(rm),
        answers={ids(version)["nps"]: 8},
        customer=CustomerFactory(owner=other_rm).pk,
    )

    assert answer.status_code == 400
    assert "customer" in answer.json()
    assert not FeedbackResponse.objects.exists()


def test_anonymous_answers_need_an_open_link_and_keep_contact_when_asked(app_user):
    closed = published_form(slug="closed")
    open_form = published_form(slug="open", open_link=True, ask_contact=True)
    client = client_for(app_user)

    refused = submit(client, slug="closed", key="a", answers={ids(closed)["nps"]: 8})
    bad_phone = submit(
        client, slug="open", key="b", answers={ids(open_form)["nps"]: 8}, contact={"phone": "1"}
    )
    stored = submit(
        client,
        slug="open",
        key="c",
        answers={ids(open_form)["nps"]: 8},
        contact={"name": "李四", "phone": "13800138000"},
    )

    assert refused.status_code == 400
    assert bad_phone.status_code == 400
    assert bad_phone.json() == {"contact": {"phone": ["Enter a valid phone number."]}}
    assert stored.status_code == 201
    assert FeedbackResponse.objects.get().contact_phone == "+8613800138000"


def test_submission_needs_the_key_the_permission_and_a_published_form(app_user, reader):
    version = published_form()
    client = client_for(app_user)
    url = f"{FORMS}service/responses/"
    body = {"answers": {ids(version)["nps"]: 8}, "customer": CustomerFactory().pk}

    assert client.post(url, body, format="json").status_code == 400  # no Idempotency-Key
    assert client_for(reader).post(url, body, format="json").status_code == 403
    assert submit(client, slug="nope", **body).status_code == 404
    assert submit(client, extra="x", **body).status_code == 400  # unknown field
    assert not FeedbackResponse.objects.exists()


def test_the_schema_documents_the_feedback_api_without_warnings(tmp_path):
    path = tmp_path / "schema.json"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )

    paths = json.loads(path.read_text())["paths"]
    assert {
        "/api/v1/feedback/forms/",
        "/api/v1/feedback/forms/{slug}/",
        "/api/v1/feedback/forms/{slug}/responses/",
        "/api/v1/feedback/responses/",
    } <= set(paths)
