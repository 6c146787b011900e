"""Feedback responses in admin: read-only, scoped to the customers the user may see (anonymous
open-link responses: supervisors only), each answer shown with its question as the customer
read it (from the version answered), its sentiment and topics. From a free-text answer a
supervisor adopts the suggestion (workflows.feedback.suggestions). The dashboard
(workflows.feedback.dashboard) hangs off the list, for supervisors.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.admin.forms import form_add_service_errors, form_page_context
from crm.admin.scoping import CustomerScopedAdmin, ReadOnlyRecordAdmin
from crm.masking import mask_email, mask_phone, user_can_see_contact
from workflows.feedback import dashboard as figures
from workflows.feedback.scope import response_visibility_q
from workflows.feedback.suggestions import suggestion_adopt
from workflows.feedback.versions import localized
from workflows.models import AdoptedSuggestion, FeedbackAnswer, FeedbackForm, FeedbackResponse
from workflows.models.feedback import TEXT_KINDS
from workflows.selectors import user_supervises

ANSWERS_SHOWN = 200


@admin.register(FeedbackResponse)
class FeedbackResponseAdmin(CustomerScopedAdmin):
    change_list_template = "admin/workflows/feedbackresponse/change_list.html"
    change_form_template = "admin/workflows/feedbackresponse/change_form.html"
    list_display = (
        "submitted_at",
        "form",
        "version_number",
        "customer_shown",
        "service_step",
        "nps",
        "csat",
    )
    list_select_related = ("form", "customer")
    list_filter = ("form", "service_step", ("submitted_at", DateFieldListFilter))
    search_fields = ("customer__id",)
    search_help_text = _("A customer's id.")
    sortable_by = ("submitted_at", "nps", "csat")
    list_per_page = 50
    fields = (
        "form",
        "version_number",
        "service_step",
        "customer",
        "occasion",
        "language",
        "submitted_at",
        "nps",
        "csat",
        "contact",
        "interaction",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # Anonymous responses have no customer: supervisors see them, RMs do not.
        return (
            admin.ModelAdmin.get_queryset(self, request)
            .filter(response_visibility_q(request.user))
            .annotate(_version_number=F("version__number"))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("version"), ordering="version__number")
    def version_number(self, response: FeedbackResponse):
        return response._version_number

    @admin.display(description=_("customer"), ordering="customer_id")
    def customer_shown(self, response: FeedbackResponse) -> str:
        if response.customer_id is None:
            return _("anonymous (open link)")
        return str(response.customer)

    @admin.display(description=_("contact details"))
    def contact(self, response: FeedbackResponse) -> str:
        can_see = getattr(response, "_can_see_contact", False)
        phone = response.contact_phone
        email = response.contact_email
        parts = [
            response.contact_name,
            phone if can_see or not phone else mask_phone(phone),
            email if can_see or not email else mask_email(email),
        ]
        return " · ".join(part for part in parts if part) or "–"

    def get_object(self, request, object_id, from_field=None):
        response = super().get_object(request, object_id, from_field)
        if response is not None:
            response._can_see_contact = user_can_see_contact(request.user)
        return response

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(customer_id=int(term)), False

    def may_adopt(self, request) -> bool:
        return request.user.has_perm("workflows.add_adoptedsuggestion") and user_supervises(
            request.user
        )

    def may_view_dashboard(self, request) -> bool:
        return self.has_view_permission(request) and user_supervises(request.user)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_view_dashboard": self.may_view_dashboard(request),
        }
        return super().changelist_view(request, extra_context)

    def change_view_context(self, request, object_id) -> dict:
        response = (
            self.get_queryset(request).select_related("version", "customer").get(pk=object_id)
        )
        questions = {question["id"]: question for question in response.version.questions}
        language = (get_language() or "en").lower()
        may_adopt = self.may_adopt(request) and response.customer_id is not None
        answers = (
            FeedbackAnswer.objects.filter(response_id=response.pk)
            .select_related("adoption")
            .prefetch_related("topics")
            .order_by("id")[:ANSWERS_SHOWN]
        )
        rows = []
        for answer in answers:
            question = questions.get(answer.question_id, {})
            labels = {
                choice["value"]: localized(choice["label"], language)
                for choice in question.get("choices", [])
            }
            adoption = getattr(answer, "adoption", None)
            rows.append(
                {
                    "answer": answer,
                    "question": localized(question.get("text", {}), language) or answer.question_id,
                    "value": _answer_value(answer, labels),
                    "topics": [
                        topic.name_zh_hans if language.startswith("zh") else topic.name_en
                        for topic in answer.topics.all()
                    ],
                    "adoption": adoption,
                    "adopt_url": reverse(
                        "admin:workflows_feedbackresponse_adopt", args=[response.pk, answer.pk]
                    )
                    if may_adopt
                    and adoption is None
                    and answer.kind in TEXT_KINDS
                    and answer.text.strip()
                    else None,
                }
            )
        return {"answer_rows": rows}

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "dashboard/",
                wrap(self.dashboard_view),
                name="workflows_feedbackresponse_dashboard",
            ),
            path(
                "<int:object_id>/answers/<int:answer_id>/adopt/",
                wrap(self.adopt_view),
                name="workflows_feedbackresponse_adopt",
            ),
            *super().get_urls(),
        ]

    def adopt_view(self, request, object_id, answer_id):
        self.ensure_visible(request, object_id)
        if not self.may_adopt(request):
            raise PermissionDenied
        answer = (
            FeedbackAnswer.objects.filter(pk=answer_id, response_id=object_id)
            .select_related("response__customer", "response__form")
            .first()
        )
        if answer is None:
            raise Http404
        change_url = reverse("admin:workflows_feedbackresponse_change", args=[object_id])
        form = AdoptSuggestionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                adoption = suggestion_adopt(
                    answer=answer,
                    what_changed=form.cleaned_data["what_changed"],
                    adopted_by=request.user,
                )
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                self.log_change(request, answer.response, [{"added": {"object": str(adoption)}}])
                self.message_user(
                    request,
                    _("The suggestion is adopted: the customer is told and earns the bonus."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        context = form_page_context(
            self,
            request,
            title=_("Adopt this suggestion"),
            form=form,
            answer=answer,
            change_url=change_url,
        )
        return TemplateResponse(request, "admin/workflows/feedbackresponse/adopt.html", context)

    def dashboard_view(self, request):
        """NPS, CSAT, topics and negative answers over a range, for supervisors."""
        if not self.may_view_dashboard(request):
            raise PermissionDenied
        first, last = figures.default_range()
        form = DashboardForm(
            request.GET or {"first": first, "last": last},
            forms_queryset=FeedbackForm.objects.order_by("name").only("pk", "name"),
        )
        report = None
        if form.is_valid():
            chosen = form.cleaned_data.get("form")
            where = figures.dashboard_filter(
                first=form.cleaned_data["first"],
                last=form.cleaned_data["last"],
                form_id=chosen.pk if chosen else None,
            )
            report = figures.feedback_dashboard(user=request.user, where=where)
        language = (get_language() or "en").lower()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Feedback dashboard"),
            "form": form,
            "report": report,
            "language": language,
            "charts": _chart_data(report, language) if report else None,
        }
        return TemplateResponse(request, "admin/workflows/feedbackresponse/dashboard.html", context)


def _answer_value(answer: FeedbackAnswer, labels: dict[str, str]) -> str:
    if answer.score is not None:
        return str(answer.score)
    if answer.choices:
        return ", ".join(labels.get(str(value), str(value)) for value in answer.choices)
    return answer.text


def _chart_data(report: figures.Dashboard, language: str) -> dict:
    """What the charts draw (the tables show the same numbers), with translated labels."""

    def rounded(value, digits=1):
        return None if value is None else round(value, digits)

    return {
        "nps": {
            "labels": [week.label for week in report.weeks],
            "nps": [rounded(week.nps) for week in report.weeks],
            "answers": [week.answers for week in report.weeks],
            "npsLabel": str(_("NPS")),
            "answersLabel": str(_("answers")),
        },
        "csat": {
            "labels": [step.label for step in report.csat_steps],
            "average": [rounded(step.average, 2) for step in report.csat_steps],
            "satisfied": [rounded(step.satisfied_share) for step in report.csat_steps],
            "averageLabel": str(_("average CSAT (1-5)")),
            "satisfiedLabel": str(_("satisfied (4-5), %")),
        },
        "topics": {
            "labels": [topic.name(language) for topic in report.topics],
            "share": [rounded(topic.share) for topic in report.topics],
            "shareLabel": str(_("share of scored text answers, %")),
        },
        "negative": {
            "labels": [step.label for step in report.negative_steps],
            "negative": [step.negative for step in report.negative_steps],
            "negativeLabel": str(_("negative answers")),
        },
    }


class DashboardForm(forms.Form):
    form = forms.ModelChoiceField(
        label=_("Form"), queryset=FeedbackForm.objects.none(), required=False, empty_label=_("All")
    )
    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, forms_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = forms_queryset

    def clean(self):
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The first day comes after the last one."))
            if last - first > timedelta(weeks=figures.MAX_WEEKS):
                raise forms.ValidationError(
                    _("Choose at most %(weeks)s weeks.") % {"weeks": figures.MAX_WEEKS}
                )
        return data


class AdoptSuggestionForm(forms.Form):
    what_changed = forms.CharField(
        label=_("What changed"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=400,
        help_text=_("Told to the customer: “your suggestion led to …”."),
    )


@admin.register(AdoptedSuggestion)
class AdoptedSuggestionAdmin(ReadOnlyRecordAdmin):
    list_display = ("adopted_at", "customer", "what_changed", "adopted_by")
    list_select_related = ("customer", "adopted_by")
    list_filter = (("adopted_at", DateFieldListFilter),)
    search_fields = ("customer__id",)
    search_help_text = _("A customer's id.")
    fields = ("customer", "answer_text", "what_changed", "adopted_by", "adopted_at", "interaction")
    readonly_fields = fields

    @admin.display(description=_("suggestion"))
    def answer_text(self, adoption: AdoptedSuggestion) -> str:
        return adoption.answer.text

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(customer_id=int(term)), False
