"""Filters of the feedback responses list."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from config.api import IsoDateTimeFilter
from crm.filters import IdFilter
from workflows.models import FeedbackResponse
from workflows.models.feedback import ServiceStep


@extend_schema_field(OpenApiTypes.INT)
class ScoreFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 10)
        super().__init__(*args, **kwargs)


class ResponseFilter(filters.FilterSet):
    form = filters.CharFilter(field_name="form__slug", label=_("form (its link name)"))
    service_step = filters.ChoiceFilter(choices=ServiceStep.choices, label=_("service step"))
    customer = IdFilter(field_name="customer_id", label=_("customer"))
    submitted_from = IsoDateTimeFilter(
        field_name="submitted_at", lookup_expr="gte", label=_("submitted at or after")
    )
    submitted_before = IsoDateTimeFilter(
        field_name="submitted_at", lookup_expr="lt", label=_("submitted before")
    )
    nps_min = ScoreFilter(field_name="nps", lookup_expr="gte", label=_("NPS at least"))
    nps_max = ScoreFilter(field_name="nps", lookup_expr="lte", label=_("NPS at most"))

    class Meta:
        model = FeedbackResponse
        fields: list[str] = []
