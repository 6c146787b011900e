"""A membership explains itself: which criteria hold with their values, the distance to the next
tier, open warnings, grace and credit blocks, what the next evaluation will do, and the history.

The explanation reads the evaluation's own scratch table (loyalty/scratch.py), filled for the
one customer, so it never disagrees with the evaluation: the metric values, the tier the
customer qualifies for and the change the evaluation would make (`kind`, `to_rank`) are the
SQL's, not a second implementation. Only the wording and the distances are computed here.

`as_of` is the day the explanation looks at; by default today. The nightly run evaluates the
day that just ended (loyalty.tasks.evaluate_all_programs_task), so "as of today" is exactly what
tonight's run will decide if nothing changes before midnight.

Queries: the rules (3), the scratch table (drop, create, fill, read, drop; PostgreSQL also
ANALYZEs it), the membership, whether the next run is the month's first, the last changes and
warnings (each with a LIMIT), and a grace period's dates when one runs; none of them grows with
the customer's history.
"""

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_celery_beat.models import PeriodicTask

from crm.models import Customer, Transaction
from loyalty.metrics import Metric, get_metric
from loyalty.metrics.base import end_of_day
from loyalty.models import (
    DowngradeWarning,
    EvaluationRun,
    GracePeriod,
    Membership,
    MembershipChange,
    Program,
)
from loyalty.rules import ConditionRule, MetricKey, ProgramRules, TierRule
from loyalty.scratch import scratch_row
from loyalty.services.evaluation import program_movement

Kind = MembershipChange.Kind
HISTORY_LIMIT = 10
NIGHTLY_TASK = "loyalty.tasks.evaluate_all_programs_task"
_OPERATOR_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


# -- the explanation -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionExplanation:
    metric: str
    label: str  # "Spend (card)"
    parameters: dict[str, Any]
    window_months: int | None
    operator: str
    threshold: Decimal
    value: Decimal
    holds: bool
    gap: Decimal  # how far the value is from holding; 0 when it holds
    value_text: str  # "18,000.00", "1"
    threshold_text: str
    window_text: str  # "12 months", "" for a metric of one day
    distance: str  # "12,000.00 more spend (card) within a 12-month window", "" when it holds

    @property
    def sign(self) -> str:
        return _OPERATOR_SIGNS.get(self.operator, self.operator)


@dataclass(frozen=True)
class GroupExplanation:
    name: str
    holds: bool
    conditions: tuple[ConditionExplanation, ...]

    @property
    def distance(self) -> tuple[str, ...]:
        """What it takes for the group to hold: one sentence per condition that does not."""
        return tuple(condition.distance for condition in self.conditions if not condition.holds)


@dataclass(frozen=True)
class TierExplanation:
    rank: int
    name: str
    holds: bool  # any of its groups holds
    groups: tuple[GroupExplanation, ...]


@dataclass(frozen=True)
class MembershipState:
    tier_rank: int
    tier_name: str
    since: date


@dataclass(frozen=True)
class WarningExplanation:
    id: int
    tier_rank: int  # the tier at risk
    tier_name: str
    opened_on: date
    deadline: date
    status: str
    status_label: str
    closed_on: date | None


@dataclass(frozen=True)
class GraceExplanation:
    starts_on: date
    ends_on: date  # the first day without the freeze
    last_day: date
    reason: str
    reason_label: str


@dataclass(frozen=True)
class CreditBlockExplanation:
    occurred_at: datetime
    requalifies_on: date  # the first evaluated day the block no longer applies


@dataclass(frozen=True)
class NextEvaluation:
    runs_on: date  # the night after `as_of`
    runs_at: time | None  # from the beat schedule, when it is a plain time
    as_of: date
    is_monthly: bool  # the month's first run: it counts months under the warning ratio
    kind: str | None  # the change it makes (MembershipChange.Kind), None: none
    to_rank: int | None
    to_tier: str
    outcome: str  # "moves up to Gold", "stays at Gold"...
    counts_month_under_ratio: bool
    opens_warning: bool
    new_warning_deadline: date | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ChangeExplanation:
    id: int
    evaluated_on: date
    kind: str
    kind_label: str
    from_rank: int | None
    from_tier: str
    to_rank: int
    to_tier: str
    reason: str
    run_id: int | None
    changed_by_id: int | None
    changed_by: str  # the user's name, or "nightly evaluation"


@dataclass(frozen=True)
class Explanation:
    customer_id: int
    program_id: int
    program_code: str
    program_name: str
    as_of: date
    is_evaluated: bool  # False: the evaluation leaves the customer out (merged, created later)
    membership: MembershipState | None
    qualified_rank: int | None
    qualified_tier: str
    qualified_group: str
    tiers: tuple[TierExplanation, ...]  # highest first
    next_tier: TierExplanation | None  # the tier above the current one (or the joining one)
    under_ratio: bool  # no group of the current tier holds even at the warning ratio
    warning_ratio: Decimal
    months_under_ratio: int
    warning_after_months: int
    warning: WarningExplanation | None  # the open one
    grace: GraceExplanation | None
    credit_block: CreditBlockExplanation | None
    next_evaluation: NextEvaluation | None
    changes: tuple[ChangeExplanation, ...]  # newest first
    warnings: tuple[WarningExplanation, ...]  # newest first


# -- selectors -----------------------------------------------------------------------------


def membership_explain(
    *,
    customer: Customer,
    program: Program,
    as_of: date | None = None,
    history_limit: int = HISTORY_LIMIT,
) -> Explanation:
    """The customer's membership of the program as the evaluation sees it on `as_of`."""
    as_of = as_of or timezone.localdate()
    rules = ProgramRules.load(program.pk)
    # The evaluation's SELECT for this one customer, without its scratch table.
    scratch, row = scratch_row(
        rules, as_of=as_of, movement=program_movement(program), customer_id=customer.pk
    )
    values = scratch.metric_values(row) if row else {}
    index = row["qualified_group"] if row else None
    qualified = scratch.groups[int(index)] if index is not None else None
    changes = _changes(customer=customer, program=program, limit=history_limit)
    warnings = _warnings(customer=customer, program=program, limit=history_limit)
    tiers = tuple(_tier(tier, values) for tier in reversed(rules.tiers))
    left_out = Explanation(
        customer_id=customer.pk,
        program_id=program.pk,
        program_code=program.code,
        program_name=program.display_name,
        as_of=as_of,
        is_evaluated=False,
        membership=None,
        qualified_rank=None,
        qualified_tier="",
        qualified_group="",
        tiers=tiers,
        next_tier=None,
        under_ratio=False,
        warning_ratio=program.warning_ratio,
        months_under_ratio=0,
        warning_after_months=program.warning_after_months,
        warning=None,
        grace=None,
        credit_block=None,
        next_evaluation=None,
        changes=changes,
        warnings=warnings,
    )
    if row is None:
        return left_out

    membership = _membership(row["membership_id"])
    current_rank = int(row["current_rank"])
    # A customer not yet a member looks up from the tier they are about to join.
    reference_rank = current_rank
    if row["membership_id"] is None and row["kind"] == Kind.JOINED:
        reference_rank = int(row["to_rank"])
    above = rules.above(reference_rank)
    next_tier = next((tier for tier in tiers if above and tier.rank == above.rank), None)
    warning = _open_warning(row["warning_id"], warnings)
    grace = _grace(customer=customer, program=program, as_of=as_of) if row["grace"] else None
    credit_block = None
    if row["blocked"]:
        occurred_at = _as_datetime(row["credit_event_at"])
        credit_block = CreditBlockExplanation(
            occurred_at=occurred_at,
            requalifies_on=requalification_day(
                occurred_at=occurred_at, block_months=program.credit_block_months
            ),
        )
    return replace(
        left_out,
        is_evaluated=True,
        membership=membership,
        qualified_rank=int(row["qualified_rank"]) or None,
        qualified_tier=qualified[0].name if qualified else "",
        qualified_group=qualified[1].name if qualified else "",
        next_tier=next_tier,
        under_ratio=bool(row["under_ratio"]),
        months_under_ratio=int(row["months_under"]),
        warning=warning,
        grace=grace,
        credit_block=credit_block,
        next_evaluation=_next_evaluation(
            row,
            rules=rules,
            program=program,
            as_of=as_of,
            is_monthly=_is_monthly(program=program, as_of=as_of),
            grace=grace,
            credit_block=credit_block,
        ),
    )


def memberships_explain(
    *, customer: Customer, as_of: date | None = None, history_limit: int = HISTORY_LIMIT
) -> list[Explanation]:
    """The explanation for each active program, by program code (1 query, then per program)."""
    return [
        membership_explain(
            customer=customer, program=program, as_of=as_of, history_limit=history_limit
        )
        for program in Program.objects.filter(is_active=True).order_by("code")
    ]


def requalification_day(*, occurred_at: datetime, block_months: int) -> date:
    """The first day whose evaluation no longer sees the serious credit event inside the block.

    The scratch table blocks a day D when the event happened at or after the end of the day
    `D - block_months`; month ends make "the event's day + block_months" a day early at times
    (an event on 31 January is still inside a one-month block on 28 February), so step on.
    """
    day = timezone.localtime(occurred_at).date() + relativedelta(months=block_months)
    while end_of_day(day - relativedelta(months=block_months)) <= occurred_at:
        day += timedelta(days=1)
    return day


# -- wording -------------------------------------------------------------------------------


def format_metric_value(metric: Metric | None, value: Decimal, *, round_up: bool = False) -> str:
    """With thousands separators; a count as a whole number (0.01 order short is 1 order)."""
    if metric is not None and metric.counts:
        if round_up:
            value = Decimal(math.ceil(value))
        if value == value.to_integral_value():
            return formats.number_format(value, decimal_pos=0, force_grouping=True)
    return formats.number_format(value, decimal_pos=2, force_grouping=True)


def condition_label(condition: ConditionRule) -> str:
    """The metric's label with its parameters: "Spend (card)"."""
    label = _metric_label(condition.metric)
    if not condition.parameters:
        return label
    parameters = ", ".join(
        _lower_first(_parameter_label(name, value)) for name, value in condition.parameters
    )
    return _("%(metric)s (%(parameters)s)") % {"metric": label, "parameters": parameters}


def distance_text(condition: ConditionRule, value: Decimal) -> str:
    """What it takes for the condition to hold, as a sentence; "" when it holds."""
    gap = condition.gap(value)
    if gap <= 0:
        return ""
    amount = format_metric_value(_metric_or_none(condition.metric), gap, round_up=True)
    placeholders = {
        "amount": amount,
        "metric": _lower_first(condition_label(condition)),
        "months": condition.window_months,
    }
    at_least = condition.operator in (">=", ">")
    if condition.window_months:
        if at_least:
            text = _("%(amount)s more %(metric)s within a %(months)s-month window")
        else:
            text = _("%(amount)s less %(metric)s within a %(months)s-month window")
    elif at_least:
        text = _("%(amount)s more %(metric)s")
    else:
        text = _("%(amount)s less %(metric)s")
    return text % placeholders


def _metric_or_none(code: str) -> Metric | None:
    """The registered metric; None for a code no longer registered (old history rows)."""
    try:
        return get_metric(code)
    except ValidationError:
        return None


def _metric_label(code: str) -> str:
    metric = _metric_or_none(code)
    return str(metric.label) if metric else code


def _parameter_label(name: str, value: Any) -> str:
    """A parameter's value as its choice label where it names a transaction field's choice."""
    try:
        field = Transaction._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    return str(dict(field.flatchoices).get(value, value))  # type: ignore[union-attr]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _months(count: int) -> str:
    return ngettext("%(count)d month", "%(count)d months", count) % {"count": count}


def _condition(condition: ConditionRule, values: dict[MetricKey, Decimal]) -> ConditionExplanation:
    value = values.get(condition.key, Decimal(0))
    metric = _metric_or_none(condition.metric)
    return ConditionExplanation(
        metric=condition.metric,
        label=condition_label(condition),
        parameters=dict(condition.parameters),
        window_months=condition.window_months,
        operator=condition.operator,
        threshold=condition.threshold,
        value=value,
        holds=condition.holds(value),
        gap=condition.gap(value),
        value_text=format_metric_value(metric, value),
        threshold_text=format_metric_value(metric, condition.threshold),
        window_text=_months(condition.window_months) if condition.window_months else "",
        distance=distance_text(condition, value),
    )


def _tier(tier: TierRule, values: dict[MetricKey, Decimal]) -> TierExplanation:
    groups = tuple(
        GroupExplanation(
            name=group.name,
            holds=group.holds(values),
            conditions=tuple(_condition(condition, values) for condition in group.conditions),
        )
        for group in tier.groups
    )
    return TierExplanation(
        rank=tier.rank, name=tier.name, holds=any(group.holds for group in groups), groups=groups
    )


def _next_evaluation(
    row: dict[str, Any],
    *,
    rules: ProgramRules,
    program: Program,
    as_of: date,
    is_monthly: bool,
    grace: GraceExplanation | None,
    credit_block: CreditBlockExplanation | None,
) -> NextEvaluation:
    """The scratch row's decision in words, and what the month's first run would count."""
    kind = row["kind"]
    current_rank, qualified_rank = int(row["current_rank"]), int(row["qualified_rank"])
    to_rank = int(row["to_rank"]) if kind else None
    to_tier = _tier_name(rules, to_rank)
    current_tier = _tier_name(rules, current_rank)
    base_rank = rules.base.rank if rules.base else 0
    months_under = int(row["months_under"])
    under_ratio, has_grace = bool(row["under_ratio"]), bool(row["grace"])
    deadline = _as_date(row["warning_deadline"])
    notes: list[str] = []

    if kind == Kind.JOINED and row["blocked"]:
        outcome = _("joins at the base tier, %(tier)s: serious credit event")
    elif kind == Kind.JOINED:
        outcome = _("joins at %(tier)s")
    elif kind == Kind.UPGRADE:
        outcome = _("moves up to %(tier)s")
    elif kind == Kind.DOWNGRADE:
        outcome = _("moves down to %(tier)s: the warning's deadline has passed")
    elif kind == Kind.CREDIT_EVENT:
        outcome = _("drops to the base tier, %(tier)s: serious credit event")
    elif current_rank:
        outcome = _("stays at %(tier)s")
    else:
        outcome = _("does not join: no tier's criteria hold")
    outcome %= {"tier": to_tier or current_tier}

    if credit_block and qualified_rank > max(current_rank, to_rank or 0):
        notes.append(
            _("No move up to %(tier)s before %(day)s: a serious credit event blocks it.")
            % {
                "tier": _tier_name(rules, qualified_rank),
                "day": formats.date_format(credit_block.requalifies_on, "SHORT_DATE_FORMAT"),
            }
        )
    if kind is None and row["warning_id"] is not None:
        if qualified_rank >= current_rank:
            notes.append(_("The open warning closes: the customer qualifies for the tier again."))
        elif has_grace:
            notes.append(_("The open warning is suspended: a grace period runs."))
        elif deadline is not None:
            notes.append(
                _(
                    "Moves down a tier at the first evaluation on or after %(day)s unless the "
                    "customer qualifies for %(tier)s again."
                )
                % {
                    "day": formats.date_format(deadline, "SHORT_DATE_FORMAT"),
                    "tier": current_tier,
                }
            )
    elif kind is None and grace and qualified_rank < current_rank:
        notes.append(
            _("No downgrade while the grace period runs (until %(day)s).")
            % {"day": formats.date_format(grace.last_day, "SHORT_DATE_FORMAT")}
        )

    counts_month = opens_warning = False
    new_deadline = None
    if kind is None and current_rank > base_rank:
        if not is_monthly:
            if under_ratio and not has_grace:
                notes.append(
                    _(
                        "Not the month's first evaluation: months under the warning ratio are "
                        "counted at the first evaluation of a month."
                    )
                )
        elif under_ratio and not has_grace:
            counts_month = True
            counted = months_under + 1
            notes.append(
                _("Counts a month under the warning ratio: %(count)d of %(limit)d.")
                % {"count": counted, "limit": program.warning_after_months}
            )
            if row["warning_id"] is None and counted >= program.warning_after_months:
                opens_warning = True
                new_deadline = as_of + relativedelta(months=program.recovery_months)
                notes.append(
                    _(
                        "Opens a downgrade warning: the customer must qualify for %(tier)s again "
                        "by %(day)s or move down a tier."
                    )
                    % {
                        "tier": current_tier,
                        "day": formats.date_format(new_deadline, "SHORT_DATE_FORMAT"),
                    }
                )
        elif months_under > 0:
            notes.append(_("The count of months under the warning ratio goes back to 0."))

    return NextEvaluation(
        runs_on=as_of + timedelta(days=1),
        runs_at=_nightly_time(),
        as_of=as_of,
        is_monthly=is_monthly,
        kind=kind,
        to_rank=to_rank,
        to_tier=to_tier,
        outcome=outcome,
        counts_month_under_ratio=counts_month,
        opens_warning=opens_warning,
        new_warning_deadline=new_deadline,
        notes=tuple(notes),
    )


def _tier_name(rules: ProgramRules, rank: int | None) -> str:
    tier = rules.tier(rank) if rank else None
    return tier.name if tier else ""


def _nightly_time() -> time | None:
    """The nightly run's time as its beat schedule stands (supervisors may edit it in admin);
    None when it is paused or not a plain daily time."""
    task = (
        PeriodicTask.objects.filter(task=NIGHTLY_TASK, enabled=True, crontab__isnull=False)
        .select_related("crontab")
        .first()
    )
    crontab = task.crontab if task else None
    if crontab and crontab.hour.isdigit() and crontab.minute.isdigit():
        return time(int(crontab.hour), int(crontab.minute))
    return None


def reason_summary(reason: dict[str, Any]) -> str:
    """A history row's `reason` (JSON written by the evaluation) in one line."""
    rule = reason.get("rule") if isinstance(reason, dict) else None
    if rule == "criteria":
        conditions = []
        for described in reason.get("conditions", []):
            condition = ConditionRule(
                metric=described.get("metric", ""),
                window_months=described.get("window_months"),
                operator=described.get("operator", ">="),
                threshold=_decimal(described.get("threshold")),
                parameters=tuple(sorted((described.get("parameters") or {}).items())),
            )
            metric = _metric_or_none(condition.metric)
            value = _decimal(described.get("value"))
            conditions.append(
                _("%(metric)s %(value)s (%(operator)s %(threshold)s)")
                % {
                    "metric": condition_label(condition),
                    "value": format_metric_value(metric, value),
                    "operator": _OPERATOR_SIGNS.get(condition.operator, condition.operator),
                    "threshold": format_metric_value(metric, condition.threshold),
                }
            )
        if not conditions:
            return _("%(group)s: holds for everyone") % {"group": reason.get("group", "")}
        return _("%(group)s: %(conditions)s") % {
            "group": reason.get("group", ""),
            "conditions": "; ".join(conditions),
        }
    if rule == "warning":
        deadline = _as_date(reason.get("deadline"))
        return _("the warning's deadline (%(day)s) passed") % {
            "day": formats.date_format(deadline, "SHORT_DATE_FORMAT") if deadline else "?"
        }
    if rule == "credit_event":
        occurred = reason.get("occurred_at")
        when = _as_datetime(occurred) if occurred else None
        return _("serious credit event on %(day)s") % {
            "day": formats.date_format(timezone.localdate(when), "SHORT_DATE_FORMAT")
            if when
            else "?"
        }
    return ""


# -- reads ---------------------------------------------------------------------------------


def _membership(membership_id: int | None) -> MembershipState | None:
    if membership_id is None:
        return None
    membership = Membership.objects.select_related("tier").get(pk=membership_id)
    return MembershipState(
        tier_rank=membership.tier.rank,
        tier_name=membership.tier.display_name,
        since=membership.since,
    )


def _is_monthly(*, program: Program, as_of: date) -> bool:
    """Whether the run as of `as_of` is the month's first (the evaluation's own test)."""
    return not EvaluationRun.objects.filter(
        program=program,
        status=EvaluationRun.Status.DONE,
        as_of__gte=as_of.replace(day=1),
        as_of__lt=as_of,
    ).exists()


def _changes(*, customer: Customer, program: Program, limit: int) -> tuple[ChangeExplanation, ...]:
    rows = (
        MembershipChange.objects.filter(customer=customer, program=program)
        .select_related("from_tier", "to_tier", "changed_by")
        .order_by("-evaluated_on", "-id")[:limit]
    )
    return tuple(
        ChangeExplanation(
            id=change.pk,
            evaluated_on=change.evaluated_on,
            kind=change.kind,
            kind_label=str(change.get_kind_display()),
            from_rank=change.from_tier.rank if change.from_tier else None,
            from_tier=change.from_tier.display_name if change.from_tier else "",
            to_rank=change.to_tier.rank,
            to_tier=change.to_tier.display_name,
            reason=reason_summary(change.reason),
            run_id=change.run_id,
            changed_by_id=change.changed_by_id,
            changed_by=(change.changed_by.get_full_name() or change.changed_by.get_username())
            if change.changed_by
            else _("nightly evaluation"),
        )
        for change in rows
    )


def _warnings(
    *, customer: Customer, program: Program, limit: int
) -> tuple[WarningExplanation, ...]:
    rows = (
        DowngradeWarning.objects.filter(customer=customer, program=program)
        .select_related("tier")
        .order_by("-opened_on", "-id")[:limit]
    )
    return tuple(_warning(warning) for warning in rows)


def _warning(warning: DowngradeWarning) -> WarningExplanation:
    return WarningExplanation(
        id=warning.pk,
        tier_rank=warning.tier.rank,
        tier_name=warning.tier.display_name,
        opened_on=warning.opened_on,
        deadline=warning.deadline,
        status=warning.status,
        status_label=str(warning.get_status_display()),
        closed_on=warning.closed_on,
    )


def _open_warning(
    warning_id: int | None, recent: tuple[WarningExplanation, ...]
) -> WarningExplanation | None:
    if warning_id is None:
        return None
    found = next((warning for warning in recent if warning.id == warning_id), None)
    if found is None:  # older than the recent ones: one more query, only then
        found = _warning(DowngradeWarning.objects.select_related("tier").get(pk=warning_id))
    return found


def _grace(*, customer: Customer, program: Program, as_of: date) -> GraceExplanation | None:
    period = (
        GracePeriod.objects.filter(
            customer=customer,
            program=program,
            status=GracePeriod.Status.APPROVED,
            starts_on__lte=as_of,
            ends_on__gt=as_of,
        )
        .order_by("-ends_on")
        .first()
    )
    if period is None or period.starts_on is None or period.ends_on is None:
        return None
    return GraceExplanation(
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        last_day=period.ends_on - timedelta(days=1),
        reason=period.reason,
        reason_label=str(period.get_reason_display()),
    )


# -- the scratch table's values ------------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_date(str(value)[:10])


def _as_datetime(value: Any) -> datetime:
    """A timestamp read back from the scratch table: SQLite gives naive UTC (or text)."""
    if not isinstance(value, datetime):
        value = parse_datetime(str(value))
        if value is None:
            raise ValueError("not a timestamp")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)
