"""A campaign's results: members, control group, what the outbox did with the messages and the
conversion rates with the uplift, from one GROUP BY over the members and their messages."""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count

from workflows.models import Campaign, CampaignMember, Message


@dataclass
class CampaignResults:
    members: int = 0
    control: int = 0
    treated: int = 0
    converted_treated: int = 0
    converted_control: int = 0
    messages: Counter = field(default_factory=Counter)  # state -> count
    refused: Counter = field(default_factory=Counter)  # refusal reason -> count

    @staticmethod
    def _rate(converted: int, total: int) -> Decimal | None:
        return Decimal(converted) / Decimal(total) if total else None

    @property
    def treated_rate(self) -> Decimal | None:
        return self._rate(self.converted_treated, self.treated)

    @property
    def control_rate(self) -> Decimal | None:
        return self._rate(self.converted_control, self.control)

    @property
    def uplift(self) -> Decimal | None:
        """Treated rate minus control rate, in rate points (0.05 is five percentage points)."""
        if self.treated_rate is None or self.control_rate is None:
            return None
        return self.treated_rate - self.control_rate

    @property
    def relative_uplift(self) -> Decimal | None:
        """The uplift over the control rate (0.5 is 50% more conversions than without)."""
        if self.uplift is None or not self.control_rate:
            return None
        return self.uplift / self.control_rate

    @property
    def sent(self) -> int:
        return self.messages[Message.State.SENT]

    @property
    def refused_by_reason(self) -> list[tuple[str, int]]:
        labels = dict(Message.Refusal.choices)
        return [(str(labels.get(reason, reason)), n) for reason, n in sorted(self.refused.items())]


def campaign_results(*, campaign: Campaign) -> CampaignResults:
    rows = (
        CampaignMember.objects.filter(campaign=campaign)
        .values("is_control", "message__state", "message__refusal")
        .annotate(n=Count("id"), converted=Count("converted_at"))
        .order_by()
    )
    results = CampaignResults()
    for row in rows:
        n, converted = row["n"], row["converted"]
        results.members += n
        if row["is_control"]:
            results.control += n
            results.converted_control += converted
            continue
        results.treated += n
        results.converted_treated += converted
        state = row["message__state"] or ""
        results.messages[state] += n
        if state == Message.State.REFUSED:
            results.refused[row["message__refusal"]] += n
    return results
