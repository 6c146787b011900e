"""The KPI page's figures worked out from a snapshot's payload (counts, see snapshots.py): the
rates, the cohort triangle, the labels, each with a short help text saying how it is computed.
No query: tier, program and department names come from the caller."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from workflows.kpis import selectors
from workflows.models.tickets import Department
from workflows.tickets.reports import Attainment

HELP = {
    "active": _(
        "Customers with a purchase, or an app login, branch visit, review, service ticket or "
        "feedback answer, in the last 30 (90) days before the day, of the customers on file "
        "then (merged duplicates left out)."
    ),
    "retention": _(
        "Of the customers who bought in the 90 days before the last 90, the share who bought "
        "again in the last 90 days."
    ),
    "cohorts": _(
        "Customers grouped by the month of their first purchase (last 12 months); each cell is "
        "the share of the cohort who bought in that month (month 0 is the whole cohort)."
    ),
    "repeat": _("Of the customers who ever bought, the share who bought at least twice."),
    "clv": _(
        "Historical customer lifetime value: purchases minus refunds to date, summed over the "
        "customers who bought, divided by their number (amounts as recorded, CNY)."
    ),
    "predicted_clv": _(
        "Predicted customer lifetime value (average): the spend the BG/NBD and Gamma-Gamma "
        "model expects over the next months (discounted), averaged over the customers it "
        "scored last night."
    ),
    "nps": _(
        "Net Promoter Score of the NPS answers in the last 90 days: promoters (9-10) minus "
        "detractors (0-6), as a percentage of the answers. Anonymous answers count only in "
        "the company-wide figures."
    ),
    "liability": _(
        "Points liability now: outstanding points of the accounts with a positive balance, "
        "times each program's value of one point. Negative balances are debts, shown apart."
    ),
    "tiers": _("Members per current tier today."),
    "movement": _(
        "Changes of tier recorded per month of evaluation: up (a higher tier), down (a lower "
        "tier: a downgrade or a credit event) and joined (a first tier), of the customers in "
        "the scope."
    ),
    "sla": _(
        "Tickets resolved in the last 30 days: resolved by their resolution deadline, and first "
        "answered by their first-response deadline, among those with one (the ticket reports' "
        "rule). The team is the ticket's."
    ),
    "scope": _(
        "A program filters its members; a tier, the members in that tier today; a team, its "
        "customers. Figures count up to the end of the day before the snapshot's day."
    ),
}


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


@dataclass
class CohortRow:
    month: date
    size: int
    shares: list[float | None]  # per month since the first purchase: 0, 1, 2...
    counts: list[int]


@dataclass
class TierRow:
    tier_id: int
    label: str
    members: int
    share: float | None


@dataclass
class MovementMonth:
    month: date
    joined: int
    up: int
    down: int


@dataclass
class Figures:
    day: date
    customers: int
    active_30: int
    active_90: int
    active_30_share: float | None
    active_90_share: float | None
    retention_base: int
    retained: int
    retention_rate: float | None
    buyers: int
    repeat_buyers: int
    repeat_rate: float | None
    net_spend: Decimal
    clv_average: Decimal | None
    predicted_clv_average: Decimal | None  # None: not yet computed
    nps_answers: int
    promoters: int
    detractors: int
    nps: float | None
    liability_accounts: int
    liability_points: int
    liability_value: Decimal
    negative_accounts: int
    negative_points: int
    negative_value: Decimal
    cohorts: list[CohortRow] = field(default_factory=list)
    tiers: list[TierRow] = field(default_factory=list)
    movement: list[MovementMonth] = field(default_factory=list)
    sla: list[Attainment] = field(default_factory=list)
    sla_overall: Attainment | None = None
    help: dict[str, Any] = field(default_factory=lambda: HELP)


def _average(total: Decimal, count: int) -> Decimal | None:
    return (total / count).quantize(Decimal("0.01")) if count else None


def figures_from_payload(payload: dict[str, Any], *, tier_labels: dict[int, str]) -> Figures:
    """The page's figures; `tier_labels` names the tiers (id -> "Program · tier"), in the
    order they are listed."""
    customers = payload["customers"]
    nps = payload["nps"]
    liability = payload["liability"]
    net_spend = Decimal(customers["net_spend"])
    predicted = payload.get("predicted_clv")
    figures = Figures(
        day=date.fromisoformat(payload["day"]),
        customers=customers["customers"],
        active_30=customers["active_30"],
        active_90=customers["active_90"],
        active_30_share=_share(customers["active_30"], customers["customers"]),
        active_90_share=_share(customers["active_90"], customers["customers"]),
        retention_base=customers["retention_base"],
        retained=customers["retained"],
        retention_rate=_share(customers["retained"], customers["retention_base"]),
        buyers=customers["buyers"],
        repeat_buyers=customers["repeat_buyers"],
        repeat_rate=_share(customers["repeat_buyers"], customers["buyers"]),
        net_spend=net_spend,
        clv_average=_average(net_spend, customers["buyers"]),
        predicted_clv_average=(
            _average(Decimal(predicted["total"]), predicted["customers"]) if predicted else None
        ),
        nps_answers=nps["answers"],
        promoters=nps["promoters"],
        detractors=nps["detractors"],
        nps=(
            100.0 * (nps["promoters"] - nps["detractors"]) / nps["answers"]
            if nps["answers"]
            else None
        ),
        liability_accounts=liability["accounts"],
        liability_points=liability["points"],
        liability_value=Decimal(liability["value"]),
        negative_accounts=liability["negative_accounts"],
        negative_points=liability["negative_points"],
        negative_value=Decimal(liability["negative_value"]),
    )
    months = [date.fromisoformat(month) for month in payload["cohorts"]["months"]]
    for index, month in enumerate(months):
        row = payload["cohorts"]["cells"][index]
        size = row[index]
        counts = row[index:]
        figures.cohorts.append(
            CohortRow(
                month=month,
                size=size,
                counts=counts,
                shares=[_share(count, size) for count in counts],
            )
        )
    members = payload["tiers"]
    total_members = sum(members.values())
    figures.tiers = [
        TierRow(
            tier_id=tier_id,
            label=label,
            members=members.get(str(tier_id), 0),
            share=_share(members.get(str(tier_id), 0), total_members),
        )
        for tier_id, label in tier_labels.items()
        if str(tier_id) in members
    ]
    movement = payload["movement"]
    figures.movement = [
        MovementMonth(
            month=date.fromisoformat(month),
            joined=movement["joined"][index],
            up=movement["up"][index],
            down=movement["down"][index],
        )
        for index, month in enumerate(movement["months"])
    ]
    overall = Attainment(key=None, label=str(_("All")))
    for department in Department:
        counts = payload["sla"].get(department.value)
        if not counts:
            continue
        row = Attainment(key=department.value, label=str(department.label), **counts)
        figures.sla.append(row)
        for name in selectors.ATTAINMENT_COUNTS:
            setattr(overall, name, getattr(overall, name) + counts[name])
    figures.sla_overall = overall if figures.sla else None
    return figures


def chart_data(figures: Figures) -> dict[str, Any]:
    """What the charts draw; the tables under them hold the same numbers."""

    def rounded(value: float | None, digits: int = 1) -> float | None:
        return None if value is None else round(value, digits)

    return {
        "tiers": {
            "labels": [row.label for row in figures.tiers],
            "members": [row.members for row in figures.tiers],
            "membersLabel": str(_("members")),
        },
        "movement": {
            "labels": [month.month.strftime("%Y-%m") for month in figures.movement],
            "up": [month.up for month in figures.movement],
            "down": [-month.down for month in figures.movement],
            "joined": [month.joined for month in figures.movement],
            "upLabel": str(_("up")),
            "downLabel": str(_("down")),
            "joinedLabel": str(_("joined")),
        },
        "cohorts": {
            "labels": [str(offset) for offset in range(selectors.MONTHS)],
            "series": [
                {
                    "label": row.month.strftime("%Y-%m"),
                    "shares": [rounded(share) for share in row.shares],
                }
                for row in figures.cohorts
                if row.size
            ],
        },
        "sla": {
            "labels": [row.label for row in figures.sla],
            "resolution": [rounded(row.resolution_share) for row in figures.sla],
            "response": [rounded(row.response_share) for row in figures.sla],
            "resolutionLabel": str(_("resolved in time, %")),
            "responseLabel": str(_("first response in time, %")),
        },
    }
