"""Panels of the single customer view.

The customer's page belongs to `crm`; other apps add their panels (tier, points, tickets...)
from their `AppConfig.ready()` with `register_panel`, so `crm` never imports them. A panel's
template is rendered with `customer` and what its `get_context(customer, request)` returns;
keep that to a bounded number of queries, whatever the customer's history.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
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


def unregister_panel(key: str) -> None:
    _panels.pop(key, None)


def panels_for(customer: Customer, request: Any) -> list[dict[str, Any]]:
    """Each registered panel, in order, rendered with its own context."""
    return [
        {
            "panel": panel,
            "html": render_to_string(
                panel.template,
                {"customer": customer, **panel.get_context(customer, request)},
                request=request,
            ),
        }
        for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key))
    ]


def register_builtin_panels() -> None:
    """crm's own panels: what the customer came with, holds and did, each a short list."""
    builtin = [
        ("source_records", _("Source records"), selectors.customer_source_records),
        ("holdings", _("Products held"), selectors.customer_open_holdings),
        ("balances", _("Recent balances"), selectors.customer_recent_balances),
        ("transactions", _("Recent transactions"), selectors.customer_recent_transactions),
        ("interactions", _("Timeline"), selectors.customer_recent_interactions),
    ]
    for order, (key, title, rows_of) in enumerate(builtin, start=1):
        register_panel(
            Panel(
                key=key,
                title=title,
                template=f"admin/crm/customer/panels/{key}.html",
                get_context=lambda customer, request, rows_of=rows_of: {
                    "rows": rows_of(customer=customer)
                },
                order=order * 10,
            )
        )
