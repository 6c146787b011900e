"""Panels of the single customer view.

The customer's page belongs to `crm`; other apps add their panels (tier, points, tickets...)
from their `AppConfig.ready()` with `register_panel`, so `crm` never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm import selectors
from crm.models import Customer

PanelContext = Callable[[Customer, Any], dict[str, Any]]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str | Promise
    template: str
    get_context: PanelContext
    order: int = 100


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.key] = panel


def panels_for(customer: Customer, request: Any) -> list[dict[str, Any]]:
    """Each registered panel, in order, with its rendered context."""
    return [
        {"panel": panel, **panel.get_context(customer, request)}
        for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key))
    ]


def register_builtin_panels() -> None:
    register_panel(
        Panel(
            key="source_records",
            title=_("Source records"),
            template="admin/crm/customer/panels/source_records.html",
            get_context=lambda c, r: {"rows": selectors.customer_source_records(customer=c)},
            order=10,
        )
    )
    register_panel(
        Panel(
            key="holdings",
            title=_("Products held"),
            template="admin/crm/customer/panels/holdings.html",
            get_context=lambda c, r: {"rows": selectors.customer_open_holdings(customer=c)},
            order=20,
        )
    )
    register_panel(
        Panel(
            key="balances",
            title=_("Recent balances"),
            template="admin/crm/customer/panels/balances.html",
            get_context=lambda c, r: {"rows": selectors.customer_recent_balances(customer=c)},
            order=30,
        )
    )
    register_panel(
        Panel(
            key="transactions",
            title=_("Recent transactions"),
            template="admin/crm/customer/panels/transactions.html",
            get_context=lambda c, r: {"rows": selectors.customer_recent_transactions(customer=c)},
            order=40,
        )
    )
    register_panel(
        Panel(
            key="interactions",
            title=_("Timeline"),
            template="admin/crm/customer/panels/interactions.html",
            get_context=lambda c, r: {"rows": selectors.customer_recent_interactions(customer=c)},
            order=50,
        )
    )
