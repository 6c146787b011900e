"""Imports in admin: upload, preview, confirm, then watch the worker's progress; header
mappings per source. Only users who may import (crm.run_import) see either."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm.admin.forms import form_add_service_errors, form_page_context
from crm.imports.mapping import field_choices
from crm.imports.report import refused_rows_csv
from crm.masking import user_can_see_contact
from crm.models import ColumnMapping, ImportJob, Source
from crm.selectors import user_can_see_all_customers
from crm.services.imports import import_job_confirm, import_job_create, import_job_preview

REFUSED_ROWS_SHOWN = 100


class ImportUploadForm(forms.Form):
    source = forms.ChoiceField(label=_("source"), choices=Source.choices)
    kind = forms.ChoiceField(label=_("kind"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("file"),
        help_text=_(
            "CSV (UTF-8 or GBK) or Excel .xlsx, with a header row in English or Chinese. "
            "Very large files are better imported with the import_file command."
        ),
    )


class RunImportPermissionMixin:
    """Everything here needs crm.run_import on top of the model permission."""

    def _may_import(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("crm.run_import")

    def has_module_permission(self, request) -> bool:
        return self._may_import(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_import(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._may_import(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_import(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_import(request) and super().has_delete_permission(request, obj)


@admin.register(ImportJob)
class ImportJobAdmin(RunImportPermissionMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "original_name",
        "source",
        "kind",
        "status",
        "rows_read",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_refused",
        "created_by",
    )
    list_filter = ("status", "kind", "source")
    list_select_related = ("created_by",)
    show_full_result_count = False

    def get_queryset(self, request):
        # Refused rows hold customers' data: a user sees the imports they made, unless they see
        # every customer.
        queryset = super().get_queryset(request)
        if user_can_see_all_customers(request.user):
            return queryset
        return queryset.filter(created_by=request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a job changes only by running

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of what was imported stays

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<int:object_id>/confirm/",
                self.admin_site.admin_view(require_POST(self.confirm_view)),
                name=f"{info[0]}_{info[1]}_confirm",
            ),
            path(
                "<int:object_id>/refused.csv",
                self.admin_site.admin_view(self.refused_rows_view),
                name=f"{info[0]}_{info[1]}_refused",
            ),
        ]
        return own + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = import_job_create(
                    actor=request.user,
                    source=form.cleaned_data["source"],
                    kind=form.cleaned_data["kind"],
                    uploaded_file=form.cleaned_data["file"],
                )
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                return HttpResponseRedirect(self._job_url(job))
        context = form_page_context(self, request, title=_("Import a file"), form=form)
        return TemplateResponse(request, "admin/crm/importjob/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self._job_or_404(request, object_id)
        preview = None
        if job.status == ImportJob.Status.PENDING:
            preview = import_job_preview(job_id=job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "preview": preview,
            "refused_rows": job.row_errors.order_by("row_number", "id")[:REFUSED_ROWS_SHOWN],
            "is_running": job.status == ImportJob.Status.RUNNING,
            "may_confirm": self.has_add_permission(request),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/crm/importjob/job.html", context)

    def confirm_view(self, request, object_id):
        job = self._job_or_404(request, object_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            import_job_confirm(actor=request.user, job_id=job.pk)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("The import has started."), messages.SUCCESS)
        return HttpResponseRedirect(self._job_url(job))

    def refused_rows_view(self, request, object_id):
        job = self._job_or_404(request, object_id)
        if not request.user.has_perm("crm.view_importrowerror"):
            raise PermissionDenied
        response = StreamingHttpResponse(
            refused_rows_csv(job, show_contact=user_can_see_contact(request.user)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-refused.csv"'
        return response

    def _job_or_404(self, request, object_id) -> ImportJob:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            return get_object_or_404(self.get_queryset(request), pk=int(object_id))
        except (TypeError, ValueError) as error:
            raise Http404 from error

    def _job_url(self, job: ImportJob) -> str:
        return reverse("admin:crm_importjob_change", args=[job.pk])


class ColumnMappingForm(forms.ModelForm):
    field = forms.ChoiceField(label=_("field"))

    class Meta:
        model = ColumnMapping
        fields = ("source", "kind", "header", "field")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            (label, field_choices(kind)) for kind, label in ImportJob.Kind.choices
        ]

    def clean(self):
        cleaned = super().clean()
        kind, name = cleaned.get("kind"), cleaned.get("field")
        if kind and name and name not in dict(field_choices(kind)):
            message = _("This field does not belong to files of this kind.")
            self.add_error("field", ValidationError(message, code="field_of_other_kind"))
        return cleaned


@admin.register(ColumnMapping)
class ColumnMappingAdmin(RunImportPermissionMixin, admin.ModelAdmin):
    form = ColumnMappingForm
    list_display = ("header", "field", "source", "kind")
    list_filter = ("source", "kind")
    search_fields = ("header",)
