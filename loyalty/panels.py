"""loyalty's panel on the customer's page (crm.panels), registered from LoyaltyConfig.ready()."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.panels import Panel, register_panel

LAST_CHANGES = 5


def memberships_context(customer: Any, request: Any) -> dict[str, Any]:
    """Per program the tier and its last changes: one query, plus one per program."""
    from loyalty.models import Membership, MembershipChange

    memberships = list(
        Membership.objects.filter(customer=customer)
        .select_related("program", "tier")
        .order_by("program__code")
    )
    rows = [
        {
            "membership": membership,
            "changes": list(
                MembershipChange.objects.filter(membership=membership)
                .select_related("from_tier", "to_tier", "changed_by")
                .order_by("-evaluated_on", "-id")[:LAST_CHANGES]
            ),
        }
        for membership in memberships
    ]
    return {"rows": rows}


def register_panels() -> None:
    register_panel(
        Panel(
            key="loyalty_memberships",
            title=_("Loyalty tiers"),
            template="loyalty/panels/memberships.html",
            get_context=memberships_context,
            order=5,
        )
    )
