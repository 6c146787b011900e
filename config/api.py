"""API plumbing shared by every app: errors as JSON with a code, cursor pagination."""

from django.core.exceptions import ValidationError as DjangoValidationError
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
