"""Reads for the customer page's privacy panel and the admin lists: each one query."""

from typing import Any

from crm.models import Consent
from crm.privacy.models import CustomerAccessLog, PrivacyRequest

CONSENT_HISTORY_LIMIT = 30
RECENT_ACCESSES = 10
RECENT_REQUESTS = 5


def consent_history(*, customer_id: int, limit: int = CONSENT_HISTORY_LIMIT) -> list[Any]:
    """Every answer the customer gave per channel and purpose, newest first, with its
    evidence and who recorded it (simple-history's rows of the consents)."""
    historical = Consent.history.model  # type: ignore[attr-defined]
    return list(
        historical.objects.filter(customer_id=customer_id)
        .select_related("recorded_by", "history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )


def customer_accesses_recent(*, customer_id: int, limit: int = RECENT_ACCESSES) -> list[Any]:
    return list(
        CustomerAccessLog.objects.filter(customer_id=customer_id)
        .select_related("user")
        .order_by("-at", "-id")[:limit]
    )


def privacy_requests_recent(*, customer_id: int, limit: int = RECENT_REQUESTS) -> list[Any]:
    return list(
        PrivacyRequest.objects.filter(customer_id=customer_id)
        .select_related("requested_by", "done_by")
        .order_by("-created_at", "-id")[:limit]
    )
