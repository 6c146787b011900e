"""Programs, tiers and their criteria, tuned by supervisors; RMs may only look."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from loyalty.admin import thresholds
from loyalty.models import (
    Condition,
    CriterionGroup,
    Program,
    Tier,
)


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0
    fields = ("rank", "name", "name_zh_hans", "criteria_link")
    readonly_fields = ("criteria_link",)
    show_change_link = True

    @admin.display(description=_("criteria"))
    def criteria_link(self, tier: Tier) -> str:
        if not tier.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:loyalty_tier_change", args=[tier.pk]),
            _("Edit the criterion groups"),
        )


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_zh_hans", "is_active", "tier_count")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "name_zh_hans")
    inlines = (TierInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Program]:
        return super().get_queryset(request).annotate(tier_count=Count("tiers"))

    @admin.display(description=_("tiers"), ordering="tier_count")
    def tier_count(self, program: Program) -> int:
        return program.tier_count  # type: ignore[attr-defined]

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/thresholds/",
                self.admin_site.admin_view(self.thresholds_view),
                name=thresholds.URL_NAME,
            ),
            *super().get_urls(),
        ]

    def thresholds_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return thresholds.thresholds_view(self, request, object_id)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = extra_context or {}
        if request.user.has_perm(thresholds.PERMISSION):
            extra_context["thresholds_url"] = reverse(
                f"{self.admin_site.name}:{thresholds.URL_NAME}", args=[object_id]
            )
        return super().change_view(request, object_id, form_url, extra_context)


class CriterionGroupInline(admin.TabularInline):
    model = CriterionGroup
    extra = 0
    fields = ("name", "conditions_summary")
    readonly_fields = ("conditions_summary",)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[CriterionGroup]:
        return super().get_queryset(request).prefetch_related("conditions")

    @admin.display(description=_("conditions (all must hold)"))
    def conditions_summary(self, group: CriterionGroup) -> str:
        if not group.pk:
            return "—"
        conditions = list(group.conditions.all())
        if not conditions:
            return str(_("none: always holds"))
        return str(_(" and ")).join(str(condition) for condition in conditions)


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("__str__", "program", "rank", "name", "name_zh_hans")
    list_filter = ("program",)
    list_select_related = ("program",)
    search_fields = ("name", "name_zh_hans", "program__code")
    ordering = ("program__code", "rank")
    inlines = (CriterionGroupInline,)


class ConditionForm(forms.ModelForm):
    """An existing condition's threshold is read-only here: it changes on the program's
    "Thresholds: preview and save" page, which shows first who would move."""

    class Meta:
        model = Condition
        fields = ("group", "metric", "window_months", "operator", "threshold", "parameters")
        help_texts = {
            "threshold": _(
                "Set when the condition is added. Afterwards it changes on the program's "
                "page “Thresholds: preview and save”, which shows first how many "
                "customers would move."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("threshold")
        if field is None or self.instance.pk is None:
            return
        # A disabled field ignores what is posted for it and keeps the saved value.
        field.disabled = True
        program_id = self.instance.group.tier.program_id
        field.help_text = format_html(
            '{} <a href="{}">{}</a>',
            _("Change it on the program's preview page:"),
            reverse(f"admin:{thresholds.URL_NAME}", args=[program_id]),
            _("Thresholds: preview and save"),
        )


class ConditionInline(admin.TabularInline):
    model = Condition
    form = ConditionForm
    extra = 1
    fields = ("metric", "window_months", "operator", "threshold", "parameters")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Condition]:
        # Each existing row's help links to its program's page.
        return super().get_queryset(request).select_related("group__tier")


@admin.register(CriterionGroup)
class CriterionGroupAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tier")
    list_filter = ("tier__program",)
    list_select_related = ("tier__program",)
    search_fields = ("name", "tier__name")
    autocomplete_fields = ("tier",)
    inlines = (ConditionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.has_perm(thresholds.PERMISSION):
            return (*fields, "thresholds_link")
        return fields

    @admin.display(description=_("thresholds"))
    def thresholds_link(self, group: CriterionGroup) -> str:
        if not group.pk:
            return str(_("Set with each new condition below."))
        return format_html(
            '{} <a href="{}">{}</a>',
            _("Existing conditions' thresholds change on the program's preview page:"),
            reverse(f"admin:{thresholds.URL_NAME}", args=[group.tier.program_id]),
            _("Thresholds: preview and save"),
        )


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    form = ConditionForm
    list_display = ("__str__", "group", "metric", "window_months", "operator", "threshold")
    list_filter = ("metric", "group__tier__program")
    list_select_related = ("group__tier__program",)
    autocomplete_fields = ("group",)
    search_fields = ("group__name",)
