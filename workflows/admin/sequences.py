"""Care sequences in admin: supervisors define them (steps inline, validated by the models'
clean()), everyone allowed sees the results; enrollments are a read-only, scoped list."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import ReadOnlyRecordAdmin
from workflows.models import CareSequence, CareStep, Enrollment, Message
from workflows.models.sequences import ExitReason
from workflows.sequences.results import sequence_results


class CareStepInline(admin.TabularInline):
    model = CareStep
    extra = 1
    fields = [
        "order",
        "delay_days",
        "channel",
        "template_code",
        "purpose",
        "offer_kind",
        "condition",
        "feedback_form",
    ]


@admin.register(CareSequence)
class CareSequenceAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "is_active", "created_at"]
    list_filter = ["trigger", "is_active"]
    search_fields = ["name"]
    inlines = [CareStepInline]
    readonly_fields = ["results"]
    fieldsets = [
        (None, {"fields": ["name", "trigger", "parameters", "is_active"]}),
        (
            _("Exit rules"),
            {
                "fields": [
                    "exit_on_conversion",
                    "conversion_category",
                    "exit_on_opt_out",
                    "exit_on_ticket",
                ]
            },
        ),
        (_("Results"), {"fields": ["results"]}),
    ]

    @admin.display(description=_("results"))
    def results(self, obj: CareSequence):
        if obj is None or obj.pk is None:
            return "-"
        results = sequence_results(obj)
        reasons = dict(ExitReason.choices)
        states = dict(Message.State.choices)
        exited = format_html_join(
            ", ", "{}: {}", ((reasons.get(r, r), n) for r, n in results["exited"].items())
        )
        steps = format_html_join(
            "",
            "<li>{} {}: {}</li>",
            (
                (
                    _("Step"),
                    step["order"],
                    ", ".join(
                        f"{states.get(state, state)} {n}" for state, n in step["by_state"].items()
                    )
                    or "-",
                )
                for step in results["steps"]
            ),
        )
        return format_html(
            "{} {} · {} {} · {} {} · {} {}<ul>{}</ul>",
            _("Enrolled"),
            results["enrolled"],
            _("active"),
            results["active"],
            _("completed"),
            results["completed"],
            _("exited"),
            exited or "0",
            steps,
        )


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyRecordAdmin):
    list_display = [
        "customer",
        "sequence",
        "occasion",
        "enrolled_at",
        "state",
        "exit_reason",
        "next_step",
        "next_due_at",
    ]
    list_filter = ["state", "exit_reason", "sequence"]
    list_select_related = ["customer", "sequence"]
    raw_id_fields = ["customer"]
