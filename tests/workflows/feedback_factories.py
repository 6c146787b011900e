"""A published feedback form with one question of each main kind, for feedback tests."""

from workflows.feedback.versions import form_publish
from workflows.models import FeedbackForm, FormQuestion, FormVersion
from workflows.models.feedback import QuestionKind, ServiceStep

QUESTIONS = [
    {
        "kind": QuestionKind.NPS,
        "text_en": "How likely are you to recommend us to a friend?",
        "text_zh_hans": "您向朋友推荐我们的可能性有多大？",
    },
    {
        "kind": QuestionKind.CSAT,
        "required": False,
        "text_en": "How satisfied are you with the service?",
        "text_zh_hans": "您对服务满意吗？",
    },
    {
        "kind": QuestionKind.SINGLE,
        "required": False,
        "text_en": "How did you contact us?",
        "text_zh_hans": "您是如何联系我们的？",
        "choices_en": "Phone\nApp\nBranch",
        "choices_zh_hans": "电话\n手机银行\n网点",
    },
    {
        "kind": QuestionKind.MULTIPLE,
        "required": False,
        "text_en": "What went well?",
        "text_zh_hans": "哪些方面做得好？",
        "choices_en": "Speed\nFriendliness\nAdvice",
        "choices_zh_hans": "速度\n态度\n建议",
    },
    {
        "kind": QuestionKind.LONG_TEXT,
        "required": False,
        "text_en": "What could we do better?",
        "text_zh_hans": "我们还有哪些可以改进？",
    },
]


def published_form(
    *, slug: str = "service", service_step: str = ServiceStep.GENERAL, **form_fields
) -> FormVersion:
    """A form with the QUESTIONS above (the NPS question required), published once."""
    form = FeedbackForm.objects.create(
        name=form_fields.pop("name", f"Form {slug}"),
        slug=slug,
        service_step=service_step,
        title_en=form_fields.pop("title_en", "Tell us how we did"),
        title_zh_hans=form_fields.pop("title_zh_hans", "请评价我们的服务"),
        **form_fields,
    )
    for order, question in enumerate(QUESTIONS, start=1):
        FormQuestion.objects.create(form=form, order=order, **{"required": True, **question})
    return form_publish(form=form)
