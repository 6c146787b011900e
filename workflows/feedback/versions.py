"""Publishing a form: its draft questions are frozen into a new FormVersion, which answers
refer to from then on. Earlier versions stay as they were, with their answers."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.models import FeedbackForm, FormQuestion, FormVersion
from workflows.models.feedback import CHOICE_KINDS

LANGUAGES = ("en", "zh-hans")


def _frozen(question: FormQuestion) -> dict:
    english = FormQuestion.lines(question.choices_en)
    chinese = FormQuestion.lines(question.choices_zh_hans)
    return {
        "id": f"q{question.pk}",
        "kind": question.kind,
        "required": question.required,
        "text": {"en": question.text_en, "zh-hans": question.text_zh_hans},
        "help": {"en": question.help_en, "zh-hans": question.help_zh_hans},
        "choices": [
            {"value": str(number), "label": {"en": en, "zh-hans": zh}}
            for number, (en, zh) in enumerate(zip(english, chinese, strict=True), start=1)
        ]
        if question.kind in CHOICE_KINDS
        else [],
    }


@transaction.atomic
def form_publish(*, form: FeedbackForm, published_by=None) -> FormVersion:
    """Freeze the form's questions as its next version and make it the current one."""
    form = FeedbackForm.objects.select_for_update().get(pk=form.pk)
    questions = list(form.questions.order_by("order", "id"))
    if not questions:
        raise ValidationError(_("A form needs at least one question before it is published."))
    for question in questions:
        question.full_clean()
    last = form.versions.aggregate(last=Max("number"))["last"] or 0
    version = FormVersion.objects.create(
        form=form,
        number=last + 1,
        title={"en": form.title_en, "zh-hans": form.title_zh_hans},
        intro={"en": form.intro_en, "zh-hans": form.intro_zh_hans},
        questions=[_frozen(question) for question in questions],
        published_at=timezone.now(),
        published_by=published_by,
    )
    form.current_version = version
    form.save(update_fields=["current_version"])
    return version


def localized(texts: dict, language: str) -> str:
    """A frozen text in `language`, else in the other language."""
    return texts.get(language) or next((texts[code] for code in LANGUAGES if texts.get(code)), "")
