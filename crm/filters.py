"""Filters over customers and transactions, for the API lists and for saved segments."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm.models import Consent, Customer, Source, Transaction
from crm.selectors import customer_search

CONSENT_CHANNELS = [
    (channel, label)
    for channel, label in Consent.Channel.choices
    if channel in (Consent.Channel.EMAIL, Consent.Channel.SMS, Consent.Channel.PUSH)
]


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An id. An unknown one, or one the caller may not see, just matches nothing."""

    field_class = forms.IntegerField


def filter_errors_text(errors) -> str:
    """A filter form's errors as plain text: "status: Select a valid choice..."."""
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())


class CustomerFilter(filters.FilterSet):
    search = filters.CharFilter(
        method="filter_search",
        label=_("An e-mail, a phone number, an external id or part of a name."),
    )
    team = IdFilter(field_name="team_id", label=_("team"))
    owner = IdFilter(field_name="owner_id", label=_("relationship manager"))
    status = filters.ChoiceFilter(choices=Customer.Status.choices, label=_("status"))
    kind = filters.ChoiceFilter(choices=Customer.Kind.choices, label=_("kind"))
    is_student = filters.BooleanFilter(label=_("student"))
    tag = IdFilter(field_name="tags", label=_("tag"))
    consent = filters.ChoiceFilter(
        choices=CONSENT_CHANNELS,
        method="filter_consent",
        label=_("A channel the customer has granted marketing consent on."),
    )
    created_after = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created at or after.")
    )
    created_before = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before.")
    )

    def filter_search(self, queryset, name: str, value: str):
        return customer_search(queryset, value)

    def filter_consent(self, queryset, name: str, value: str):
        # One filter() call, so the three conditions hold for the same consent row.
        return queryset.filter(
            consents__channel=value,
            consents__purpose=Consent.Purpose.MARKETING,
            consents__is_granted=True,
        )


class TransactionFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("customer"))
    kind = filters.ChoiceFilter(choices=Transaction.Kind.choices, label=_("kind"))
    category = filters.ChoiceFilter(choices=Transaction.Category.choices, label=_("category"))
    source = filters.ChoiceFilter(choices=Source.choices, label=_("source"))
    occurred_after = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Occurred at or after.")
    )
    occurred_before = filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Occurred before.")
    )
