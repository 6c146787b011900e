"""Campaigns in admin: a supervisor creates a draft, schedules it (or takes it back before it
goes out) and reads its results on its page. Only a draft is edited; once scheduled, the beat
task may launch it at any moment, and a launched campaign is a record.

Campaign members are listed per crm's visibility rule (an RM sees their customers'), read-only,
with capped counts: a campaign over a large segment has a million of them.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import ReadOnlyRecordAdmin
from workflows.campaigns.results import campaign_results
from workflows.campaigns.schedule import campaign_schedule, campaign_unschedule
from workflows.models import Campaign, CampaignMember


def _percent(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "segment", "channel", "offer_kind", "scheduled_at", "state")
    list_select_related = ("segment",)
    list_filter = ("state", "channel")
    search_fields = ("name",)
    actions = ("schedule", "unschedule")
    readonly_fields = ("state", "launched_at", "finished_at", "created_by", "results")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "segment",
                    "offer_kind",
                    "offer",
                    "program",
                    "channel",
                    "template_code",
                    "scheduled_at",
                    "expires_at",
                )
            },
        ),
        (
            _("Measuring"),
            {
                "fields": (
                    "control_share",
                    "conversion_days",
                    "conversion_rule",
                    "conversion_category",
                )
            },
        ),
        (
            _("State and results"),
            {"fields": ("state", "launched_at", "finished_at", "created_by", "results")},
        ),
    )

    def has_change_permission(self, request, obj=None) -> bool:
        # Launched and scheduled campaigns are shown read-only (with their results).
        if obj is not None and obj.state != Campaign.State.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
            obj.save()
            return
        # A guarded UPDATE of the form's fields: a campaign scheduled meanwhile is not edited.
        names = [name for name in form.fields if name in {f.name for f in obj._meta.fields}]
        updated = Campaign.objects.filter(pk=obj.pk, state=Campaign.State.DRAFT).update(
            **{name: getattr(obj, name) for name in names}
        )
        if not updated:
            messages.error(request, _("The campaign is no longer a draft; nothing was changed."))

    @admin.display(description=_("results"))
    def results(self, obj: Campaign) -> str:
        if obj.pk is None or obj.launched_at is None:
            return _("Not launched yet.")
        result = campaign_results(campaign=obj)
        rows = [
            (_("Members"), result.members),
            (_("Control group (no message)"), result.control),
            (_("Messages sent"), result.sent),
            *[(_("Refused: %(reason)s") % {"reason": r}, n) for r, n in result.refused_by_reason],
            (_("Conversion rate, offered"), _percent(result.treated_rate)),
            (_("Conversion rate, control"), _percent(result.control_rate)),
            (_("Uplift (percentage points)"), _percent(result.uplift)),
            (_("Relative uplift"), _percent(result.relative_uplift)),
        ]
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.action(description=_("Schedule the selected campaigns"), permissions=["change"])
    def schedule(self, request, queryset) -> None:
        self._apply(request, queryset, campaign_schedule, _("%(name)s is scheduled."))

    @admin.action(
        description=_("Take the selected campaigns back to draft"), permissions=["change"]
    )
    def unschedule(self, request, queryset) -> None:
        self._apply(request, queryset, campaign_unschedule, _("%(name)s is a draft again."))

    def _apply(self, request, queryset, service, done) -> None:
        for campaign in queryset:
            try:
                service(campaign=campaign)
            except ValidationError as error:
                messages.error(request, f"{campaign.name}: {' '.join(error.messages)}")
            else:
                messages.success(request, done % {"name": campaign.name})


@admin.register(CampaignMember)
class CampaignMemberAdmin(ReadOnlyRecordAdmin):
    list_display = ("campaign", "customer", "is_control", "message_state", "converted_at")
    list_select_related = ("campaign", "customer", "message")
    list_filter = ("is_control", "campaign")
    raw_id_fields = ("customer", "message")

    @admin.display(description=_("message"), ordering="message__state")
    def message_state(self, obj: CampaignMember) -> str:
        if obj.message is None:
            return "–"
        return obj.message.get_state_display()
