"""Demo feedback for `make demo`: a form per service step, published, answered by demo
customers through their personal links (the same service as the public pages, so the answers
are on the customers' timelines), spread over the last 26 weeks, then read."""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.models import Customer, Interaction
from workflows.feedback.reading.score import answers_score
from workflows.feedback.submission import response_submit
from workflows.feedback.versions import form_publish
from workflows.models import FeedbackForm, FeedbackInvitation, FeedbackResponse, FormQuestion
from workflows.models.feedback import QuestionKind, ServiceStep

DEMO_OCCASION = "demo"
WEEKS = 26

# (slug, step, score kind, English title, Chinese title, open link)
FORMS = [
    ("after-ticket", ServiceStep.TICKET, QuestionKind.CSAT, "How was our help?", "服务评价", False),
    ("onboarding", ServiceStep.ONBOARDING, QuestionKind.NPS, "Welcome aboard", "欢迎加入", False),
    ("branch-visit", ServiceStep.BRANCH_VISIT, QuestionKind.NPS, "Your visit", "网点体验", True),
    ("product-test", ServiceStep.PRODUCT_TEST, QuestionKind.CSAT, "Test our app", "新版", False),
]
SCORE_QUESTIONS = {
    QuestionKind.NPS: ("How likely are you to recommend us?", "您向朋友推荐我们的可能性有多大？"),
    QuestionKind.CSAT: ("How satisfied are you?", "您对这次服务满意吗？"),
}
COMMENTS = [
    ("客服态度很好，问题很快解决了", 9, 5),
    ("排队等了四十分钟，太慢了", 3, 2),
    ("积分兑换的礼品快递太慢", 5, 2),
    ("手机银行经常闪退，登录也很麻烦", 2, 1),
    ("客户经理很专业，理财产品介绍得很清楚", 10, 5),
    ("年费太高了，希望能减免", 4, 2),
    ("网点环境不错，柜台服务耐心", 9, 4),
    ("The staff were friendly and quick.", 9, 5),
    ("The app keeps crashing when I redeem points.", 3, 2),
    ("", 8, 4),
]


def _form(slug, step, kind, title_en, title_zh, open_link) -> FeedbackForm:
    form, created = FeedbackForm.objects.get_or_create(
        slug=slug,
        defaults={
            "name": title_en,
            "service_step": step,
            "title_en": title_en,
            "title_zh_hans": title_zh,
            "open_link": open_link,
            "ask_contact": open_link,
        },
    )
    if created:
        score_en, score_zh = SCORE_QUESTIONS[kind]
        FormQuestion.objects.create(
            form=form, order=1, kind=kind, text_en=score_en, text_zh_hans=score_zh
        )
        FormQuestion.objects.create(
            form=form,
            order=2,
            kind=QuestionKind.LONG_TEXT,
            required=False,
            text_en="What could we do better?",
            text_zh_hans="我们还有哪些可以改进？",
        )
        form_publish(form=form)
        form.refresh_from_db()
    return form


@transaction.atomic
def feedback_demo_seed(*, responses: int = 400, seed: int = 8) -> int:
    """Forms, and `responses` answers when the demo has none yet; returns how many were added."""
    forms = [_form(*row) for row in FORMS]
    if FeedbackResponse.objects.filter(occasion=DEMO_OCCASION).exists():
        return 0
    chooser = random.Random(seed)  # noqa: S311 (demo data, reproducible)
    customers = list(Customer.objects.order_by("pk")[:responses])
    expires = timezone.now() + timedelta(days=30)
    added = 0
    for index, customer in enumerate(customers):
        form = forms[index % len(forms)]
        version = form.current_version
        invitation = FeedbackInvitation.objects.create(
            form=form, customer=customer, occasion=DEMO_OCCASION, expires_at=expires
        )
        comment, nps, csat = chooser.choice(COMMENTS)
        score_question, text_question = (question["id"] for question in version.questions)
        is_nps = version.questions[0]["kind"] == QuestionKind.NPS
        score = max(0, min(10, nps + chooser.randint(-1, 1))) if is_nps else csat
        response_submit(
            version=version,
            data={score_question: score, text_question: comment},
            customer=customer,
            invitation=invitation,
            language="en" if comment.isascii() else "zh-hans",
        )
        added += 1
    # Spread over the last weeks, so that the dashboard shows a trend (by the id's last digit).
    demo = FeedbackResponse.objects.filter(occasion=DEMO_OCCASION)
    for digit in range(10):
        back = timedelta(days=digit * WEEKS * 7 // 10)
        chosen = demo.filter(id__endswith=str(digit))
        Interaction.objects.filter(feedback_response__in=chosen).update(
            occurred_at=F("occurred_at") - back
        )
        chosen.update(submitted_at=F("submitted_at") - back)
    return added


def feedback_demo_read() -> int:
    """Read the demo's free text now rather than at the worker's next minute."""
    return answers_score()
