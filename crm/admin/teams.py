"""Teams, tags and segments: the shapes a supervisor gives the customer base."""

from django.contrib import admin

from crm.models import Segment, Tag, Team, TeamMembership


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)
    inlines = (TeamMembershipInline,)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "description")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "created_by", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        if obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
