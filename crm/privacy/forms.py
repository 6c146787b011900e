from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.privacy.models import PrivacyRequest


class PrivacyRequestForm(forms.Form):
    received_on = forms.DateField(
        label=_("received on"),
        help_text=PrivacyRequest._meta.get_field("received_on").help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reference = forms.CharField(
        label=_("reason or reference"),
        max_length=200,
        help_text=PrivacyRequest._meta.get_field("reference").help_text,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class ErasureConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that this cannot be undone"),
        required=True,
    )
