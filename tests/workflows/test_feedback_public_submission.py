"""response_submit: answers checked against the frozen version, one answer per personal link,
the timeline entry, the webhook event; nothing written when anything is refused."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import Interaction
from tests.factories import CustomerFactory
from tests.workflows.feedback_factories import published_form
from workflows.feedback.submission import (
    AlreadyAnswered,
    FormClosed,
    LinkExpired,
    answers_clean,
    response_submit,
)
from workflows.feedback.versions import form_publish
from workflows.models import (
    ExperienceOfficer,
    FeedbackAnswer,
    FeedbackInvitation,
    FeedbackResponse,
    WebhookDelivery,
    WebhookEndpoint,
)
from workflows.models.feedback import ServiceStep

pytestmark = pytest.mark.django_db


def ids(version) -> dict[str, str]:
    """Question ids by kind: {"nps": "q1", "csat": "q2", ...}."""
    return {question["kind"]: question["id"] for question in version.questions}


def invitation_for(version, customer=None, **fields) -> FeedbackInvitation:
    return FeedbackInvitation.objects.create(
        form=version.form,
        customer=customer or CustomerFactory(),
        occasion=fields.pop("occasion", "ticket:55"),
        expires_at=fields.pop("expires_at", timezone.now() + timedelta(days=30)),
        **fields,
    )


def codes(error: ValidationError) -> dict[str, str]:
    return {key: errors[0].code for key, errors in error.error_dict.items()}


def nothing_written() -> bool:
    return not (
        FeedbackResponse.objects.exists()
        or FeedbackAnswer.objects.exists()
        or Interaction.objects.exists()
        or WebhookDelivery.objects.exists()
    )


def test_a_personal_answer_is_stored_with_its_scores_answers_and_timeline_entry():
    version = published_form(service_step=ServiceStep.TICKET)
    q = ids(version)
    invitation = invitation_for(version)

    response = response_submit(
        version=version,
        invitation=invitation,
        language="zh-hans",
        data={
            q["nps"]: "9",
            q["csat"]: 4,
            q["single"]: "2",
            q["multiple"]: ["3", "1"],
            q["long_text"]: "  客服态度很好，但是快递太慢了。  ",
        },
    )

    response.refresh_from_db()
    invitation.refresh_from_db()
    assert (response.nps, response.csat) == (9, 4)
    assert response.customer_id == invitation.customer_id
    assert response.occasion == "ticket:55"
    assert response.service_step == ServiceStep.TICKET
    assert response.language == "zh-hans"
    assert invitation.answered_at == response.submitted_at
    answers = {answer.question_id: answer for answer in response.answers.all()}
    assert answers[q["multiple"]].choices == ["1", "3"]  # in the question's order
    assert answers[q["single"]].choices == ["2"]
    text = answers[q["long_text"]]
    assert text.text == "客服态度很好，但是快递太慢了。"
    assert text.text_language == "zh-hans"
    assert text.scored_at is None  # the reader scores it later
    assert response.interaction.kind == Interaction.Kind.FEEDBACK
    assert response.interaction.customer_id == invitation.customer_id
    assert "NPS 9 · CSAT 4" in response.interaction.summary
    assert "客服态度很好" in response.interaction.summary


def test_unanswered_optional_questions_store_no_answer_rows():
    version = published_form()
    q = ids(version)

    response = response_submit(version=version, data={q["nps"]: 0, q["long_text"]: "   "})

    assert list(response.answers.values_list("question_id", "score")) == [(q["nps"], 0)]
    assert response.csat is None
    assert response.customer_id is None
    assert response.interaction is None


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("nps", None, "required"),
        ("nps", "", "required"),
        ("nps", 11, "out_of_range"),
        ("nps", -1, "out_of_range"),
        ("nps", "7.5", "out_of_range"),
        ("nps", True, "out_of_range"),
        ("csat", 0, "out_of_range"),
        ("csat", 6, "out_of_range"),
        ("single", "4", "invalid_choice"),
        ("single", ["1", "2"], "invalid_choice"),
        ("multiple", ["1", "9"], "invalid_choice"),
        ("long_text", "x" * 2001, "too_long"),
        ("long_text", 42, "invalid"),
    ],
)
def test_invalid_answers_are_refused_per_question_and_write_nothing(kind, value, code):
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    data = {q["nps"]: 8, q[kind]: value}

    with pytest.raises(ValidationError) as raised:
        response_submit(version=version, invitation=invitation, data=data)

    assert codes(raised.value) == {q[kind]: code}
    assert nothing_written()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_text_limits_are_200_for_short_and_2000_for_long_text():
    questions = [
        {"id": "q1", "kind": "short_text", "required": False},
        {"id": "q2", "kind": "long_text", "required": False},
    ]

    assert len(answers_clean(questions=questions, data={"q1": "x" * 200, "q2": "y" * 2000})) == 2
    with pytest.raises(ValidationError) as raised:
        answers_clean(questions=questions, data={"q1": "x" * 201})
    assert codes(raised.value) == {"q1": "too_long"}


def test_unknown_questions_are_refused():
    version = published_form()
    q = ids(version)

    with pytest.raises(ValidationError) as raised:
        response_submit(version=version, data={q["nps"]: 5, "q999999": "hello"})

    assert codes(raised.value) == {"q999999": "unknown"}
    assert nothing_written()


def test_errors_speak_the_active_language():
    version = published_form()
    q = ids(version)

    messages = {}
    for language in ("en", "zh-hans"):
        with pytest.raises(ValidationError) as raised, translation_override(language):
            response_submit(version=version, data={})
        messages[language] = raised.value.error_dict[q["nps"]][0].messages[0]

    assert messages == {"en": "Please answer this question.", "zh-hans": "请回答此问题。"}


def translation_override(language):
    from django.utils import translation

    return translation.override(language)


def test_a_personal_link_takes_one_answer():
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    response_submit(version=version, invitation=invitation, data={q["nps"]: 9})

    with pytest.raises(AlreadyAnswered):
        response_submit(version=version, invitation=invitation, data={q["nps"]: 1})

    assert FeedbackResponse.objects.get().nps == 9
    assert FeedbackAnswer.objects.count() == 1
    assert Interaction.objects.count() == 1


def test_a_stale_invitation_object_cannot_answer_twice():
    """The claim reads the database, not the caller's copy of the invitation."""
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version)
    stale = FeedbackInvitation.objects.get(pk=invitation.pk)
    response_submit(version=version, invitation=invitation, data={q["nps"]: 9})

    with pytest.raises(AlreadyAnswered):
        response_submit(version=version, invitation=stale, data={q["nps"]: 1})
    assert FeedbackResponse.objects.count() == 1


def test_an_expired_link_is_refused_and_writes_nothing():
    version = published_form()
    q = ids(version)
    invitation = invitation_for(version, expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(LinkExpired):
        response_submit(version=version, invitation=invitation, data={q["nps"]: 9})

    assert nothing_written()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_another_forms_link_and_an_inactive_form_are_refused():
    version = published_form(slug="service")
    other = published_form(slug="branch")
    invitation = invitation_for(other)

    with pytest.raises(FormClosed):
        response_submit(version=version, invitation=invitation, data={ids(version)["nps"]: 9})
    version.form.is_active = False
    version.form.save(update_fields=["is_active"])
    with pytest.raises(FormClosed):
        response_submit(version=version, data={ids(version)["nps"]: 9})

    assert nothing_written()


def test_a_response_refers_to_the_version_it_answered_after_a_new_one_is_published():
    first = published_form()
    q = ids(first)
    old = response_submit(version=first, data={q["nps"]: 3})
    form = first.form
    form.questions.filter(order=1).update(text_en="Would you recommend us?")
    second = form_publish(form=form)

    new = response_submit(version=second, data={q["nps"]: 10})

    old.refresh_from_db()
    assert old.version == first
    assert new.version == second
    assert second.number == 2


def test_open_link_contact_details_are_validated_and_kept_only_when_asked():
    version = published_form(ask_contact=True, open_link=True)
    q = ids(version)

    with pytest.raises(ValidationError) as raised:
        response_submit(
            version=version,
            data={q["nps"]: 7},
            contact={"name": "张三", "phone": "12345", "email": "not-an-email"},
        )
    assert codes(raised.value) == {
        "contact_phone": "invalid_phone",
        "contact_email": "invalid_email",
    }
    assert nothing_written()

    response = response_submit(
        version=version,
        data={q["nps"]: 7},
        contact={"name": " 张三 ", "phone": "138 0013 8000", "email": "ZS@Example.com"},
    )
    assert (response.contact_name, response.contact_phone, response.contact_email) == (
        "张三",
        "+8613800138000",
        "zs@example.com",
    )

    quiet = published_form(slug="quiet", open_link=True)
    response = response_submit(version=quiet, data={ids(quiet)["nps"]: 7}, contact={"name": "李四"})
    assert response.contact_name == ""


def test_an_experience_officers_product_test_is_a_review_on_the_timeline():
    version = published_form(service_step=ServiceStep.PRODUCT_TEST)
    q = ids(version)
    officer = CustomerFactory()
    ExperienceOfficer.objects.create(customer=officer)
    former = CustomerFactory()
    ExperienceOfficer.objects.create(customer=former, is_active=False)

    by_officer = response_submit(
        version=version, invitation=invitation_for(version, officer), data={q["nps"]: 8}
    )
    by_former = response_submit(
        version=version, invitation=invitation_for(version, former), data={q["nps"]: 8}
    )
    by_customer = response_submit(version=version, customer=CustomerFactory(), data={q["nps"]: 8})

    assert by_officer.interaction.kind == Interaction.Kind.REVIEW
    assert by_former.interaction.kind == Interaction.Kind.FEEDBACK
    assert by_customer.interaction.kind == Interaction.Kind.FEEDBACK


def test_a_general_form_answered_by_an_officer_is_feedback():
    version = published_form(service_step=ServiceStep.GENERAL)
    officer = CustomerFactory()
    ExperienceOfficer.objects.create(customer=officer)

    response = response_submit(version=version, customer=officer, data={ids(version)["nps"]: 8})

    assert response.interaction.kind == Interaction.Kind.FEEDBACK


def test_the_timeline_entry_is_announced_to_loyalty(monkeypatch):
    from crm.signals import interactions_stored

    told: list[list[int]] = []

    def receiver(sender, *, interaction_ids, **kwargs):
        told.append(list(interaction_ids))

    interactions_stored.connect(receiver, dispatch_uid="test_feedback_told")
    try:
        version = published_form()
        response = response_submit(
            version=version, customer=CustomerFactory(), data={ids(version)["nps"]: 8}
        )
    finally:
        interactions_stored.disconnect(dispatch_uid="test_feedback_told")

    assert told == [[response.interaction_id]]


def test_a_subscribed_endpoint_gets_a_feedback_received_delivery():
    WebhookEndpoint.objects.create(name="bi", url="https://b.example", events=["feedback.received"])
    WebhookEndpoint.objects.create(name="other", url="https://o.example/", events=["tier.changed"])
    version = published_form(service_step=ServiceStep.BRANCH_VISIT)
    customer = CustomerFactory()

    response = response_submit(
        version=version, customer=customer, data={ids(version)["nps"]: 6, ids(version)["csat"]: 2}
    )

    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "feedback.received"
    assert delivery.endpoint.name == "bi"
    assert delivery.payload["data"] == {
        "response_id": response.pk,
        "form": "service",
        "version": 1,
        "customer_id": customer.pk,
        "service_step": "branch_visit",
        "nps": 6,
        "csat": 2,
        "submitted_at": response.submitted_at.isoformat(),
    }


def test_nobody_subscribed_no_delivery():
    version = published_form()

    response_submit(version=version, data={ids(version)["nps"]: 6})

    assert not WebhookDelivery.objects.exists()


def test_a_failure_after_the_claim_rolls_everything_back(monkeypatch):
    from workflows.feedback import submission

    version = published_form()
    invitation = invitation_for(version)

    def broken(**kwargs):
        raise RuntimeError("webhooks down")

    monkeypatch.setattr(submission, "webhook_event_emit", broken)
    with pytest.raises(RuntimeError):
        response_submit(version=version, invitation=invitation, data={ids(version)["nps"]: 9})

    assert nothing_written()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


def test_submitting_costs_a_fixed_number_of_queries(django_assert_num_queries):
    version = published_form()
    invitation = invitation_for(version)
    q = ids(version)
    data = {q["nps"]: 9, q["csat"]: 5, q["single"]: "1", q["multiple"]: ["1"], q["long_text"]: "好"}

    # savepoint, the claim (UPDATE), the timeline entry, the response, the answers (one
    # INSERT), loyalty's bonus rules (savepoint, SELECT, release), release; no webhook query
    # while nobody subscribes
    with django_assert_num_queries(9) as captured:
        response_submit(version=version, invitation=invitation, data=data)

    assert (
        sum("workflows_feedbackanswer" in query["sql"] for query in captured.captured_queries) == 1
    )
