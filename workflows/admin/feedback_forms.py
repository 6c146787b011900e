"""The feedback form builder in admin: a form, its ordered questions (both languages) and a
"Publish" button that freezes them into the next version (workflows.feedback.versions).

Supervisors add and change forms and questions; RMs read them. Questions are validated by the
model's clean() as they are saved (choices in both languages), and again when published. The
change page lists the published versions with their answers, the open link and a preview of
each version as customers see its questions.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, F
from django.forms import Textarea
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from workflows.feedback.versions import LANGUAGES, form_publish
from workflows.models import FeedbackForm, FormQuestion, FormVersion
from workflows.models.feedback import QuestionKind


class FormQuestionInline(admin.StackedInline):
    model = FormQuestion
    extra = 1
    formfield_overrides = {models.TextField: {"widget": Textarea(attrs={"rows": 4, "cols": 40})}}
    ordering = ("order", "id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("order", "kind", "required"),
                    ("text_en", "text_zh_hans"),
                    ("help_en", "help_zh_hans"),
                    ("choices_en", "choices_zh_hans"),
                )
            },
        ),
    )


@admin.register(FeedbackForm)
class FeedbackFormAdmin(admin.ModelAdmin):
    change_form_template = "admin/workflows/feedbackform/change_form.html"
    inlines = (FormQuestionInline,)
    list_display = ("name", "slug", "service_step", "version_number", "open_link", "is_active")
    list_filter = ("service_step", "is_active", "open_link")
    search_fields = ("name", "slug", "title_en", "title_zh_hans")
    prepopulated_fields = {"slug": ("name",)}
    formfield_overrides = {models.TextField: {"widget": Textarea(attrs={"rows": 4, "cols": 60})}}
    readonly_fields = ("version_number", "links", "published_versions", "created_at")
    fieldsets = (
        (None, {"fields": ("name", "slug", "service_step", "is_active")}),
        (
            _("What customers read"),
            {"fields": (("title_en", "title_zh_hans"), ("intro_en", "intro_zh_hans"))},
        ),
        (_("Links"), {"fields": ("open_link", "ask_contact", "link_valid_days", "links")}),
        (_("Published versions"), {"fields": ("version_number", "published_versions")}),
    )

    def get_queryset(self, request):
        # The version's number without loading its frozen questions.
        return super().get_queryset(request).annotate(_version_number=F("current_version__number"))

    def has_delete_permission(self, request, obj=None) -> bool:
        # A form is retired (not active), never deleted: its answers refer to it.
        return False

    @admin.display(description=_("published version"), ordering="current_version__number")
    def version_number(self, form: FeedbackForm):
        number = getattr(form, "_version_number", None)
        return _("not published yet") if number is None else number

    @admin.display(description=_("links"))
    def links(self, form: FeedbackForm) -> str:
        if form.pk is None or form.current_version_id is None:
            return _("Publish the form to get its links.")
        preview = format_html(
            "<p><a href='{}'>{}</a></p>",
            reverse(
                "admin:workflows_feedbackform_preview",
                args=[form.pk, getattr(form, "_version_number", None) or 1],
            ),
            _("Preview the published version"),
        )
        if not form.open_link:
            return format_html(
                "<p>{}</p>{}", _("Open link off: customers answer through personal links."), preview
            )
        url = _public_url(reverse("feedback:open", kwargs={"slug": form.slug}))
        return format_html(
            "<p>{}: <a href='{}' target='_blank' rel='noopener'>{}</a></p>{}",
            _("Open link"),
            url,
            url,
            preview,
        )

    @admin.display(description=_("versions"))
    def published_versions(self, form: FeedbackForm) -> str:
        if form.pk is None:
            return "–"
        versions = (
            FormVersion.objects.filter(form_id=form.pk)
            .defer("questions", "title", "intro")
            .annotate(response_count=Count("responses"), publisher=F("published_by__username"))
            .order_by("-number")
        )
        rows = [
            (
                version.number,
                version.published_at,
                version.publisher or "–",
                version.response_count,
                reverse("admin:workflows_feedbackform_preview", args=[form.pk, version.number]),
                _("Preview"),
            )
            for version in versions
        ]
        if not rows:
            return _("Not published yet: customers cannot answer it.")
        head = format_html(
            "<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead>",
            _("version"),
            _("published at"),
            _("published by"),
            _("responses"),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href='{}'>{}</a></td></tr>",
            rows,
        )
        return format_html("<table>{}<tbody>{}</tbody></table>", head, body)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/publish/",
                wrap(require_POST(self.publish_view)),
                name="workflows_feedbackform_publish",
            ),
            path(
                "<int:object_id>/versions/<int:number>/preview/",
                wrap(self.preview_view),
                name="workflows_feedbackform_preview",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_publish": self.has_change_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def publish_view(self, request, object_id):
        form = get_object_or_404(FeedbackForm, pk=object_id)
        if not self.has_change_permission(request, form):
            raise PermissionDenied
        change_url = reverse("admin:workflows_feedbackform_change", args=[form.pk])
        try:
            version = form_publish(form=form, published_by=request.user)
        except ValidationError as error:
            self.message_user(
                request,
                _("The form was not published: %(errors)s")
                % {"errors": " ".join(_question_errors(form, error))},
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        self.log_change(request, form, [{"changed": {"fields": ["current_version"]}}])
        self.message_user(
            request,
            _("Version %(number)s is published: new answers refer to it.")
            % {"number": version.number},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(change_url)

    def preview_view(self, request, object_id, number):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        version = (
            FormVersion.objects.select_related("form").filter(form_id=object_id, number=number)
        ).first()
        if version is None:
            raise Http404
        kinds = dict(QuestionKind.choices)
        languages = dict(settings.LANGUAGES)
        previews = [
            {
                "language": languages.get(code, code),
                "code": code,
                "title": version.title.get(code, ""),
                "intro": version.intro.get(code, ""),
                "questions": [
                    {
                        "text": question["text"].get(code, ""),
                        "help": question["help"].get(code, ""),
                        "kind": kinds.get(question["kind"], question["kind"]),
                        "required": question["required"],
                        "choices": [
                            choice["label"].get(code, "") for choice in question["choices"]
                        ],
                    }
                    for question in version.questions
                ],
            }
            for code in LANGUAGES
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": version.form,
            "title": _("Preview of %(form)s, version %(number)s")
            % {"form": version.form.name, "number": version.number},
            "version": version,
            "previews": previews,
        }
        return TemplateResponse(request, "admin/workflows/feedbackform/preview.html", context)


def _public_url(path_: str) -> str:
    return settings.WORKFLOWS_PUBLIC_BASE_URL.rstrip("/") + path_


def _question_errors(form: FeedbackForm, error: ValidationError) -> list[str]:
    """The service's errors, each question's with its number and text (it says no more)."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    found = []
    for question in form.questions.order_by("order", "id"):
        try:
            question.full_clean()
        except ValidationError as question_error:
            found += [
                _("Question %(order)s (%(text)s): %(error)s")
                % {"order": question.order, "text": question.text_en, "error": message}
                for message in question_error.messages
            ]
    return found or list(error.messages)
