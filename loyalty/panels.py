"""loyalty's panel on the customer's page (crm.panels), registered from LoyaltyConfig.ready()."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.panels import Panel, register_panel

LAST_CHANGES = 5
LAST_ENTRIES = 10


def memberships_context(customer: Any, request: Any) -> dict[str, Any]:
    """Per active program the membership's explanation (loyalty.explain): one query for the
    programs, then a fixed number per program, the history read with a LIMIT."""
    from loyalty.explain import memberships_explain

    return {
        "explanations": memberships_explain(customer=customer, history_limit=LAST_CHANGES),
        "can_evaluate": request is not None and request.user.has_perm("loyalty.change_membership"),
    }


def points_context(customer: Any, request: Any) -> dict[str, Any]:
    """Balances and what expires soon per program (two queries), the last entries (one)."""
    from loyalty.points_selectors import (
        points_entries_recent,
        points_expiring_until,
        points_summary,
    )

    summaries = points_summary(customer=customer)
    user = request.user if request is not None else None
    return {
        "summaries": summaries,
        "expiring_until": points_expiring_until(),
        "entries": points_entries_recent(
            account_ids=[summary.account.pk for summary in summaries], limit=LAST_ENTRIES
        ),
        "can_adjust": user is not None and user.has_perm("loyalty.add_pointsadjustment"),
        "can_view_entries": user is not None and user.has_perm("loyalty.view_pointsentry"),
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
    register_panel(
        Panel(
            key="loyalty_points",
            title=_("Points"),
            template="loyalty/panels/points.html",
            get_context=points_context,
            order=6,
        )
    )
