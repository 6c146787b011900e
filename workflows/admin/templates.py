"""Message templates in admin: what a message says, per channel and language (supervisors)."""

from django import forms
from django.contrib import admin
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from workflows.models import MessageTemplate


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = (
            "code",
            "channel",
            "language",
            "purpose",
            "offer_kind",
            "subject",
            "body",
            "is_active",
        )

    def _clean_template(self, name: str) -> str:
        text = self.cleaned_data[name]
        try:
            Template(text)
        except TemplateSyntaxError as error:
            raise forms.ValidationError(
                _("Not a valid template: %(error)s") % {"error": error}
            ) from None
        return text

    def clean_subject(self) -> str:
        return self._clean_template("subject")

    def clean_body(self) -> str:
        return self._clean_template("body")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("code", "channel", "language", "purpose", "offer_kind", "is_active")
    list_filter = ("channel", "language", "purpose", "is_active")
    search_fields = ("code", "subject")
    ordering = ("code", "channel", "language")
