"""The customer page's "Privacy" panel: consents with their history, the recent accesses (for
those who may read the access log), the requests, and the export and erasure buttons."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.panels import Panel, register_panel
from crm.privacy.models import PrivacyRequest
from crm.privacy.selectors import (
    consent_history,
    customer_accesses_recent,
    privacy_requests_recent,
)


def privacy_context(customer: Any, request: Any) -> dict[str, Any]:
    """Three queries (four with the access log)."""
    user = getattr(request, "user", None)
    can_see_accesses = user is not None and user.has_perm("crm.view_customeraccesslog")
    requests = privacy_requests_recent(customer_id=customer.pk)
    return {
        "consents": list(customer.consents.order_by("channel", "purpose")),
        "consent_history": consent_history(customer_id=customer.pk),
        "accesses": customer_accesses_recent(customer_id=customer.pk) if can_see_accesses else [],
        "can_see_accesses": can_see_accesses,
        "requests": requests,
        "is_erased": any(
            r.kind == PrivacyRequest.Kind.ERASURE and r.status == PrivacyRequest.Status.DONE
            for r in requests
        ),
        "can_export": user is not None and user.has_perm("crm.export_customer_data"),
        "can_erase": user is not None and user.has_perm("crm.erase_customer"),
    }


def register_privacy_panel() -> None:
    register_panel(
        Panel(
            key="privacy",
            title=_("Consents and privacy"),
            template="admin/crm/customer/panels/privacy.html",
            get_context=privacy_context,
            order=900,
        )
    )
