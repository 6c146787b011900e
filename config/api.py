"""API plumbing shared by every app: errors as JSON with a code, cursor pagination."""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import exceptions, pagination
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """Maps the services' Django `ValidationError` to a 400 with field and reason."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    return drf_exception_handler(exc, context)


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Keyset pagination: constant cost on any page, no OFFSET, no COUNT."""

    ordering = ("-created_at", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, given to the database in UTC: PostgreSQL refuses offsets
    beyond 15:59 (`+16:53` was a 500), and a time that leaves years 1-9999 once in UTC is a
    400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(
                _("Enter a date and time between the years 1 and 9999."), code="overflow"
            ) from None


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    """django-filter's ISO 8601 filter, in UTC (`UtcIsoDateTimeField`)."""

    field_class = UtcIsoDateTimeField
