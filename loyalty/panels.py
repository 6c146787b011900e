"""loyalty's panel on the customer's page (crm.panels), registered from LoyaltyConfig.ready()."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.panels import Panel, register_panel

LAST_CHANGES = 5


def memberships_context(customer: Any, request: Any) -> dict[str, Any]:
    """Per active program the membership's explanation (loyalty.explain): one query for the
    programs, then a fixed number per program, the history read with a LIMIT."""
    from loyalty.explain import memberships_explain

    return {
        "explanations": memberships_explain(customer=customer, history_limit=LAST_CHANGES),
        "can_evaluate": request is not None and request.user.has_perm("loyalty.change_membership"),
    }


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
