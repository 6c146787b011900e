"""Publishing freezes a form's questions into a version; answers refer to their version."""

import pytest
from django.core.exceptions import ValidationError

from tests.workflows.feedback_factories import published_form
from workflows.feedback.versions import form_publish, localized
from workflows.models import FeedbackForm, FormQuestion


@pytest.mark.django_db
def test_publishing_freezes_the_questions_in_order_with_both_languages():
    version = published_form()

    assert version.number == 1
    assert version.form.current_version == version
    kinds = [question["kind"] for question in version.questions]
    assert kinds == ["nps", "csat", "single", "multiple", "long_text"]
    single = version.questions[2]
    assert single["choices"][1] == {"value": "2", "label": {"en": "App", "zh-hans": "手机银行"}}
    assert version.questions[0]["required"] is True
    assert localized(version.title, "zh-hans") == "请评价我们的服务"


@pytest.mark.django_db
def test_editing_the_draft_changes_no_published_version_until_published_again():
    first = published_form()
    form = first.form
    form.questions.filter(order=1).update(text_en="Would you recommend us?")

    first.refresh_from_db()
    assert first.questions[0]["text"]["en"] == "How likely are you to recommend us to a friend?"

    second = form_publish(form=form)
    form.refresh_from_db()
    assert second.number == 2
    assert form.current_version == second
    assert second.questions[0]["text"]["en"] == "Would you recommend us?"


@pytest.mark.django_db
def test_a_form_without_questions_or_with_a_broken_question_is_not_published():
    form = FeedbackForm.objects.create(name="Empty", slug="empty", title_en="T", title_zh_hans="T")
    with pytest.raises(ValidationError):
        form_publish(form=form)
    FormQuestion.objects.create(
        form=form, order=1, kind="single", text_en="Pick", text_zh_hans="选", choices_en="Only"
    )
    with pytest.raises(ValidationError):
        form_publish(form=form)
    assert not form.versions.exists()


def test_localized_falls_back_to_the_other_language():
    assert localized({"en": "", "zh-hans": "中文"}, "en") == "中文"
    assert localized({"en": "English", "zh-hans": ""}, "zh-hans") == "English"
