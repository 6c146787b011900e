"""Responses with answers, written directly, for the admin, dashboard and panel tests."""

from django.utils import timezone

from workflows.models import AnswerTopic, FeedbackAnswer, FeedbackResponse, FeedbackTopic
from workflows.models.feedback import QuestionKind


def question_id(version, kind) -> str:
    return next(question["id"] for question in version.questions if question["kind"] == kind)


def answered(
    version,
    *,
    at=None,
    customer=None,
    nps=None,
    csat=None,
    text=None,
    sentiment=None,
    topics=(),
    choice=None,
) -> FeedbackResponse:
    """A response to `version` with an answer per score given, and a read text answer."""
    response = FeedbackResponse.objects.create(
        form_id=version.form_id,
        version=version,
        service_step=version.form.service_step,
        customer=customer,
        submitted_at=at or timezone.now(),
        nps=nps,
        csat=csat,
        language="zh-hans",
    )
    if nps is not None:
        FeedbackAnswer.objects.create(
            response=response,
            question_id=question_id(version, QuestionKind.NPS),
            kind=QuestionKind.NPS,
            score=nps,
        )
    if csat is not None:
        FeedbackAnswer.objects.create(
            response=response,
            question_id=question_id(version, QuestionKind.CSAT),
            kind=QuestionKind.CSAT,
            score=csat,
        )
    if choice is not None:
        FeedbackAnswer.objects.create(
            response=response,
            question_id=question_id(version, QuestionKind.SINGLE),
            kind=QuestionKind.SINGLE,
            choices=[choice],
        )
    if text is not None:
        answer = FeedbackAnswer.objects.create(
            response=response,
            question_id=question_id(version, QuestionKind.LONG_TEXT),
            kind=QuestionKind.LONG_TEXT,
            text=text,
            text_language="zh-hans",
            sentiment=sentiment,
            scored_at=timezone.now() if sentiment is not None else None,
        )
        AnswerTopic.objects.bulk_create(AnswerTopic(answer=answer, topic=t) for t in topics)
    return response


def topic(name_en: str, name_zh_hans: str, keywords: str) -> FeedbackTopic:
    return FeedbackTopic.objects.create(
        name_en=name_en, name_zh_hans=name_zh_hans, keywords=keywords
    )
