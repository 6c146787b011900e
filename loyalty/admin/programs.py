"""Programs, tiers and their criteria, tuned by supervisors; RMs may only look."""

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

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


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 1
    fields = ("metric", "window_months", "operator", "threshold", "parameters")


@admin.register(CriterionGroup)
class CriterionGroupAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tier")
    list_filter = ("tier__program",)
    list_select_related = ("tier__program",)
    search_fields = ("name", "tier__name")
    autocomplete_fields = ("tier",)
    inlines = (ConditionInline,)


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "group", "metric", "window_months", "operator", "threshold")
    list_filter = ("metric", "group__tier__program")
    list_select_related = ("group__tier__program",)
    autocomplete_fields = ("group",)
    search_fields = ("group__name",)
