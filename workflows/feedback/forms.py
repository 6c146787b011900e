"""The public answer form, built from a frozen version's questions.

It only parses and renders: what an answer must be (required, ranges, choices, lengths) is
checked once, by `response_submit`, whose errors are put back next to their fields. So no input
carries the HTML `required` attribute either: the browser would stop the post with its own
bubble, in its own language, instead of our message next to the field.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workflows.feedback.submission import CONTACT_NAME_MAX, TEXT_LIMITS
from workflows.feedback.versions import localized
from workflows.models import FormVersion
from workflows.models.feedback import QuestionKind

HONEYPOT = "website"
CONTACT_FIELDS = {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}
GROUP_KINDS = (QuestionKind.NPS, QuestionKind.CSAT, QuestionKind.SINGLE, QuestionKind.MULTIPLE)


def _scale(kind: str) -> tuple[str, str]:
    if kind == QuestionKind.NPS:
        return _("0 = not at all likely"), _("10 = extremely likely")
    return _("1 = very dissatisfied"), _("5 = very satisfied")


def _field(question: dict, language: str) -> forms.Field:
    kind = question["kind"]
    if kind in (QuestionKind.NPS, QuestionKind.CSAT):
        low, high = (0, 10) if kind == QuestionKind.NPS else (1, 5)
        return forms.ChoiceField(
            required=False,
            choices=[(str(n), str(n)) for n in range(low, high + 1)],
            widget=forms.RadioSelect,
        )
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        choices = [(c["value"], localized(c["label"], language)) for c in question["choices"]]
        if kind == QuestionKind.SINGLE:
            return forms.ChoiceField(required=False, choices=choices, widget=forms.RadioSelect)
        return forms.MultipleChoiceField(
            required=False, choices=choices, widget=forms.CheckboxSelectMultiple
        )
    limit = TEXT_LIMITS.get(kind, 200)
    widget: forms.Widget
    if kind == QuestionKind.LONG_TEXT:
        widget = forms.Textarea(attrs={"rows": 5, "maxlength": limit})
    else:
        widget = forms.TextInput(attrs={"maxlength": limit})
    return forms.CharField(required=False, widget=widget)


class AnswerForm(forms.Form):
    use_required_attribute = False

    # The honeypot: hidden from people (CSS, aria-hidden, no tab stop), filled by bots.
    website = forms.CharField(
        required=False,
        label=gettext_lazy("Leave this field empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(
        self, *args: Any, version: FormVersion, language: str, ask_contact: bool, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.version, self.language = version, language
        for question in version.questions:
            self.fields[question["id"]] = _field(question, language)
        if ask_contact:
            self.fields["contact_name"] = forms.CharField(
                required=False,
                label=gettext_lazy("Your name"),
                widget=forms.TextInput(
                    attrs={"autocomplete": "name", "maxlength": CONTACT_NAME_MAX}
                ),
            )
            self.fields["contact_phone"] = forms.CharField(
                required=False,
                label=gettext_lazy("Phone"),
                widget=forms.TextInput(
                    attrs={"autocomplete": "tel", "inputmode": "tel", "maxlength": 30}
                ),
            )
            self.fields["contact_email"] = forms.CharField(
                required=False,
                label=gettext_lazy("E-mail"),
                widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}),
            )

    def answers(self) -> dict[str, Any]:
        return {q["id"]: self.cleaned_data.get(q["id"]) for q in self.version.questions}

    def contact(self) -> dict[str, str]:
        return {
            key: self.cleaned_data.get(name) or ""
            for name, key in CONTACT_FIELDS.items()
            if name in self.fields
        }

    def service_errors_add(self, error) -> None:
        """Put `response_submit`'s errors next to their fields (others at the top)."""
        for key, errors in error.error_dict.items():
            self.add_error(key if key in self.fields else None, errors)

    def _describe(self, name: str, *, help_id: str = "", extra_id: str = "") -> str:
        """aria-describedby of a field's inputs: its help, its scale, its error."""
        error_id = f"{name}-error" if self.errors.get(name) else ""
        ids = " ".join(i for i in (help_id, extra_id, error_id) if i)
        field = self.fields[name]
        field.widget.attrs.pop("aria-describedby", None)
        field.widget.attrs.pop("aria-invalid", None)
        if ids:
            field.widget.attrs["aria-describedby"] = ids
        if error_id:
            field.widget.attrs["aria-invalid"] = "true"
        return ids

    def questions(self) -> list[dict[str, Any]]:
        """What the template draws per question, in the version's order."""
        rows = []
        for number, question in enumerate(self.version.questions, start=1):
            name, kind = question["id"], question["kind"]
            help_text = localized(question.get("help", {}), self.language)
            help_id = f"{name}-help" if help_text else ""
            scale = _scale(kind) if kind in (QuestionKind.NPS, QuestionKind.CSAT) else None
            scale_id = f"{name}-scale" if scale else ""
            bound = self[name]
            is_group = kind in GROUP_KINDS
            rows.append(
                {
                    "number": number,
                    "name": name,
                    "kind": kind,
                    "text": localized(question["text"], self.language),
                    "help": help_text,
                    "help_id": help_id,
                    "scale": scale,
                    "scale_id": scale_id,
                    "required": question.get("required", False),
                    "describedby": self._describe(name, help_id=help_id, extra_id=scale_id),
                    "field": bound,
                    "is_group": is_group,
                    "is_scale": scale is not None,
                    # The error summary links to the first input of the question.
                    "anchor": f"{bound.auto_id}_0" if is_group else bound.auto_id,
                }
            )
        return rows

    def contact_fields(self) -> list[dict[str, Any]]:
        return [
            {
                "field": self[name],
                "describedby": self._describe(name),
                "anchor": self[name].auto_id,
            }
            for name in CONTACT_FIELDS
            if name in self.fields
        ]

    def error_summary(self, questions: list[dict], contact: list[dict]) -> list[dict[str, str]]:
        rows = [
            {"anchor": q["anchor"], "label": q["text"], "message": " ".join(q["field"].errors)}
            for q in questions
            if q["field"].errors
        ]
        rows += [
            {
                "anchor": c["anchor"],
                "label": str(c["field"].label),
                "message": " ".join(c["field"].errors),
            }
            for c in contact
            if c["field"].errors
        ]
        rows += [{"anchor": "", "label": "", "message": m} for m in self.non_field_errors()]
        return rows
