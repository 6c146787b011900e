"""loyalty's panel on the customer's page (crm.panels), registered from LoyaltyConfig.ready()."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.panels import Panel, register_panel

LAST_CHANGES = 5
LAST_ENTRIES = 10
LAST_REDEMPTIONS = 5


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


def rewards_context(customer: Any, request: Any) -> dict[str, Any]:
    """The last redemptions and "Redeem a reward": one query."""
    from loyalty.catalogue import redemptions_recent

    user = getattr(request, "user", None)
    return {
        "redemptions": list(redemptions_recent(customer_id=customer.pk, limit=LAST_REDEMPTIONS)),
        "can_redeem": user is not None and user.has_perm("loyalty.add_redemption"),
        "can_view": user is not None and user.has_perm("loyalty.view_redemption"),
    }


def benefits_context(customer: Any, request: Any) -> dict[str, Any]:
    """What the customer holds now, uses left this period, standing discounts: three queries."""
    from django.utils import timezone

    from loyalty.catalogue import benefits_held

    user = getattr(request, "user", None)
    return {
        "held": benefits_held(customer_id=customer.pk, as_of=timezone.localdate()),
        "can_use": user is not None and user.has_perm("loyalty.add_benefituse"),
    }


def lifetime_value_context(customer: Any, request: Any) -> dict[str, Any]:
    """The customer's lifetime value and the run it comes from: one query."""
    from loyalty.selectors import customer_value_get

    value = customer_value_get(customer_id=customer.pk)
    return {
        "value": value,
        "alive_percent": None if value is None else round(value.probability_alive * 100),
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
    register_panel(
        Panel(
            key="loyalty_benefits",
            title=_("Benefits"),
            template="loyalty/panels/benefits.html",
            get_context=benefits_context,
            order=7,
        )
    )
    register_panel(
        Panel(
            key="loyalty_rewards",
            title=_("Rewards"),
            template="loyalty/panels/rewards.html",
            get_context=rewards_context,
            order=8,
        )
    )
    register_panel(
        Panel(
            key="loyalty_lifetime_value",
            title=_("Lifetime value"),
            template="loyalty/panels/lifetime_value.html",
            get_context=lifetime_value_context,
            order=9,
        )
    )
