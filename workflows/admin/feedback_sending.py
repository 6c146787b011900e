"""Form sendings in admin: a supervisor sends a feedback form to a segment, at a time or now,
and reads how many were invited and how many answered. A scheduled sending may be edited
until the beat task sends it; a sent one is a record.
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from crm.admin.forms import form_add_service_errors
from workflows.feedback.sending import sending_check, sending_send_now, sendings_answered
from workflows.models import FeedbackSending
from workflows.models.outbox import Channel

LINK_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.CALL]


class FeedbackSendingForm(forms.ModelForm):
    channel = forms.ChoiceField(label=_("channel"), choices=LINK_CHANNELS)

    class Meta:
        model = FeedbackSending
        fields = ("form", "segment", "channel", "template_code", "scheduled_at")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                sending_check(FeedbackSending(**{name: cleaned[name] for name in self.Meta.fields}))
            except ValidationError as error:
                form_add_service_errors(self, error)
        return cleaned


class FeedbackSendingChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        answered = sendings_answered(list(self.result_list))
        for sending in self.result_list:
            sending.answered_count = answered.get(sending.pk, 0)


@admin.register(FeedbackSending)
class FeedbackSendingAdmin(admin.ModelAdmin):
    form = FeedbackSendingForm
    list_display = (
        "form",
        "segment",
        "channel",
        "template_code",
        "scheduled_at",
        "state",
        "invited",
        "answered",
    )
    list_select_related = ("form", "segment")
    list_filter = ("state", "channel")
    search_fields = ("form__name", "segment__name")
    actions = ("send_now",)
    readonly_fields = ("state", "sent_at", "invited", "answered", "created_by")
    fieldsets = (
        (None, {"fields": ("form", "segment", "channel", "template_code", "scheduled_at")}),
        (_("State and results"), {"fields": readonly_fields}),
    )

    def get_changelist(self, request, **kwargs):
        return FeedbackSendingChangeList

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.fieldsets[:1]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.state != FeedbackSending.State.SCHEDULED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.state != FeedbackSending.State.SCHEDULED:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
            obj.save()
            return
        # A guarded UPDATE: a sending the beat task sent meanwhile is not edited.
        updated = FeedbackSending.objects.filter(
            pk=obj.pk, state=FeedbackSending.State.SCHEDULED
        ).update(**{name: getattr(obj, name) for name in form.Meta.fields})
        if not updated:
            messages.error(request, _("The form was already sent; nothing was changed."))

    @admin.display(description=_("answered"))
    def answered(self, obj: FeedbackSending):
        if not hasattr(obj, "answered_count"):
            obj.answered_count = sendings_answered([obj]).get(obj.pk, 0) if obj.pk else 0
        return obj.answered_count

    @admin.action(description=_("Send the selected forms now"), permissions=["change"])
    def send_now(self, request, queryset) -> None:
        from workflows.tasks import feedback_sendings_send_task

        moved = 0
        for sending in queryset.select_related("form", "segment"):
            try:
                sending_send_now(sending=sending)
            except ValidationError as error:
                messages.error(request, f"{sending}: {' '.join(error.messages)}")
            else:
                moved += 1
        if moved:
            transaction.on_commit(partial(feedback_sendings_send_task.delay))
            messages.success(
                request,
                _("%(count)s sending(s) will go out within a minute.") % {"count": moved},
            )
