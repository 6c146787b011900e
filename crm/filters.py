"""Filters over customers and transactions, for the API lists and for saved segments."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from config.api import IsoDateTimeFilter
from crm.models import Consent, Customer, Interaction, Source, Transaction
from crm.selectors import customer_search

MAX_DAYS = 3650
DEFAULT_SPEND_DAYS = 365

CONSENT_CHANNELS = [
    (channel, label)
    for channel, label in Consent.Channel.choices
    if channel in (Consent.Channel.EMAIL, Consent.Channel.SMS, Consent.Channel.PUSH)
]


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An id. An unknown one, or one the caller may not see, just matches nothing."""

    field_class = forms.IntegerField


@extend_schema_field(OpenApiTypes.INT)
class DaysFilter(filters.NumberFilter):
    """A number of days, from 1 to MAX_DAYS."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DAYS)
        super().__init__(*args, **kwargs)


class CustomerFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("spend_days") is not None and cleaned.get("spend_min") is None:
            self.add_error(
                "spend_days",
                forms.ValidationError(
                    _("A spend window needs a minimum spend (spend_min)."),
                    code="spend_days_without_spend_min",
                ),
            )
        return cleaned


def net_spend_by_customer(*, since, until):
    """Each customer's net spend (purchases minus refunds) in a window, one GROUP BY.

    Amounts in other currencies than the default are not converted, so they are left out.
    """
    return (
        Transaction.objects.filter(
            occurred_at__gte=since,
            occurred_at__lte=until,
            kind__in=(Transaction.Kind.PURCHASE, Transaction.Kind.REFUND),
            currency=settings.CRM_DEFAULT_CURRENCY,
        )
        .order_by()
        .values("customer_id")
        .annotate(
            net_spend=Sum(
                Case(
                    When(kind=Transaction.Kind.REFUND, then=-F("amount")),
                    default=F("amount"),
                )
            )
        )
    )


def _activity_since(since) -> tuple[Exists, Exists]:
    transactions = Transaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=since)
    interactions = Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=since)
    return Exists(transactions), Exists(interactions)


def activity_since_q(since) -> Q:
    """Customers with a transaction or an interaction since then: one probe of each table's
    (customer, occurred_at) index per customer."""
    transactions, interactions = _activity_since(since)
    return Q(transactions) | Q(interactions)


def no_activity_since_q(since) -> Q:
    """Customers with neither since then. Two NOT EXISTS, AND-ed, so PostgreSQL can make each
    an anti-join; NOT (a OR b) it would not."""
    transactions, interactions = _activity_since(since)
    return Q(~transactions) & Q(~interactions)


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
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created at or after.")
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before.")
    )
    spend_min = filters.NumberFilter(
        method="filter_spend_min",
        min_value=Decimal("0"),
        label=_(
            "Net spend (purchases minus refunds, in CNY) at least this much over the last "
            "spend_days days (365 unless given)."
        ),
    )
    spend_days = DaysFilter(
        method="filter_nothing", label=_("The window of spend_min, in days (365 unless given).")
    )
    active_within_days = DaysFilter(
        method="filter_active_within_days",
        label=_("With a transaction or an interaction in the last N days."),
    )
    inactive_for_days = DaysFilter(
        method="filter_inactive_for_days",
        label=_("With no transaction and no interaction in the last N days."),
    )

    class Meta:
        form = CustomerFilterForm

    def filter_search(self, queryset, name: str, value: str):
        return customer_search(queryset, value)

    def filter_nothing(self, queryset, name: str, value):
        return queryset

    def filter_spend_min(self, queryset, name: str, value: Decimal):
        now = timezone.now()
        days = self.form.cleaned_data.get("spend_days") or DEFAULT_SPEND_DAYS
        spenders = (
            net_spend_by_customer(since=now - timedelta(days=days), until=now)
            .filter(net_spend__gte=value)
            .values("customer_id")
        )
        return queryset.filter(pk__in=spenders)

    def filter_active_within_days(self, queryset, name: str, value: int):
        return queryset.filter(activity_since_q(timezone.now() - timedelta(days=value)))

    def filter_inactive_for_days(self, queryset, name: str, value: int):
        return queryset.filter(no_activity_since_q(timezone.now() - timedelta(days=value)))

    def filter_consent(self, queryset, name: str, value: str):
        # One filter() call, so the three conditions hold for the same consent row.
        return queryset.filter(
            consents__channel=value,
            consents__purpose=Consent.Purpose.MARKETING,
            consents__is_granted=True,
        )


def register_customer_filter(name: str, customer_filter: filters.Filter) -> None:
    """Add a filter over customers from another app, e.g. loyalty's "points expiring within N
    days": crm imports no other app (DESIGN.md, "Layout"), so they register here from their
    AppConfig.ready(). The filter then serves like a built-in one: on the customer API list,
    in a saved segment's definition, in the segment admin's list of filters.

    A registered filter takes `method=` a function (queryset, name, value) -> queryset.
    """
    if name in CustomerFilter.base_filters:
        raise ValueError(f"A customer filter named {name!r} exists already.")
    if customer_filter.field_name is None:
        customer_filter.field_name = name
    CustomerFilter.base_filters[name] = customer_filter


class TransactionFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("customer"))
    kind = filters.ChoiceFilter(choices=Transaction.Kind.choices, label=_("kind"))
    category = filters.ChoiceFilter(choices=Transaction.Category.choices, label=_("category"))
    source = filters.ChoiceFilter(choices=Source.choices, label=_("source"))
    occurred_after = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Occurred at or after.")
    )
    occurred_before = IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Occurred before.")
    )
