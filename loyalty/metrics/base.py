"""The tier metrics' registry: a metric is one small class, registered once.

Every metric answers for all customers in one aggregate query: rows of (customer_id, value).
A customer without a row has the value 0 (no spend, no orders...), except where the metric
says otherwise (months without a credit event returns every customer).

Windows are whole local days (settings.TIME_ZONE): a window of N months as of a date D runs
from the day after D minus N months to the end of D, both included. As of 2026-03-31, three
months are 2026-01-01 .. 2026-03-31.
"""

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from typing import Any, ClassVar

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db.models import Aggregate, Func, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Window:
    """The days a metric looks at, and the aware datetimes that bound them."""

    first_day: date
    last_day: date

    @classmethod
    def ending(cls, *, as_of: date, months: int) -> "Window":
        return cls(
            first_day=as_of - relativedelta(months=months) + timedelta(days=1), last_day=as_of
        )

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first_day, time.min))

    @property
    def ends_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last_day + timedelta(days=1), time.min))


def end_of_day(as_of: date) -> datetime:
    """The first moment after the day `as_of`: what happened before it counts."""
    return timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))


class Metric:
    """One measure of a customer, computed for all customers at once.

    `parameter_choices` names the parameters a condition may give and the values each accepts;
    `required_parameters` those it must give. `counts` says its values are whole numbers
    (orders, products): explanations show them without decimals.
    """

    code: ClassVar[str]
    label: ClassVar[str | Promise]
    takes_window: ClassVar[bool] = True
    counts: ClassVar[bool] = False
    parameter_choices: ClassVar[dict[str, Iterable[str]]] = {}
    required_parameters: ClassVar[frozenset[str]] = frozenset()

    def clean_parameters(self, parameters: Any) -> dict[str, Any]:
        """The parameters if this metric accepts them, else a ValidationError."""
        if parameters in (None, ""):
            parameters = {}
        if not isinstance(parameters, dict):
            raise ValidationError(
                _("Parameters must be an object, e.g. {}."), code="parameters_not_object"
            )
        unknown = set(parameters) - set(self.parameter_choices)
        if unknown:
            raise ValidationError(
                _("%(metric)s does not take the parameters: %(names)s.")
                % {"metric": self.label, "names": ", ".join(sorted(unknown))},
                code="unknown_parameter",
            )
        missing = self.required_parameters - set(parameters)
        if missing:
            raise ValidationError(
                _("%(metric)s needs the parameters: %(names)s.")
                % {"metric": self.label, "names": ", ".join(sorted(missing))},
                code="missing_parameter",
            )
        for name, value in parameters.items():
            allowed = list(self.parameter_choices[name])
            if value not in allowed:
                raise ValidationError(
                    _("%(name)s must be one of: %(values)s.")
                    % {"name": name, "values": ", ".join(allowed)},
                    code="invalid_parameter",
                )
        return parameters

    def clean_window(self, window_months: int | None) -> None:
        if self.takes_window and window_months is None:
            raise ValidationError(
                _("%(metric)s needs a window in months.") % {"metric": self.label},
                code="window_required",
            )
        if not self.takes_window and window_months is not None:
            raise ValidationError(
                _("%(metric)s takes no window.") % {"metric": self.label},
                code="window_not_allowed",
            )

    def values(
        self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]
    ) -> QuerySet:
        """Rows of (customer_id, value) for every customer with a value, in one query."""
        raise NotImplementedError

    def window(self, *, as_of: date, window_months: int | None) -> Window:
        self.clean_window(window_months)
        assert window_months is not None  # noqa: S101 - clean_window refused a missing one
        return Window.ending(as_of=as_of, months=window_months)


class GroupedMetric(Metric):
    """An aggregate over one source's rows per customer, e.g. spend over transactions.

    The evaluation computes every grouped metric of the same `source_name` in ONE GROUP BY
    (`grouped_values`), each aggregate filtered to its own rows: one scan of the transactions
    for spend, card spend, orders and card repayments together.
    """

    source_name: ClassVar[str]

    def source(self) -> QuerySet:
        """All the rows this metric may count (of every customer, any time)."""
        raise NotImplementedError

    def rows(self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]) -> Q:
        """The source rows that count for this metric, window included."""
        raise NotImplementedError

    def aggregate(self, rows: Q) -> Aggregate | Func:
        """The per-customer value over `rows` (an aggregate with filter=rows)."""
        raise NotImplementedError

    def values(
        self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]
    ) -> QuerySet:
        return grouped_values(
            [
                (
                    "value",
                    self,
                    self.rows(as_of=as_of, window_months=window_months, parameters=parameters),
                )
            ]
        )


def grouped_values(metrics: list[tuple[str, "GroupedMetric", Q]]) -> QuerySet:
    """Rows of (customer_id, alias...) for metrics of one source: [(alias, metric, rows)]."""
    source_names = {metric.source_name for _alias, metric, _rows in metrics}
    if len(source_names) != 1:
        raise ValueError(f"Metrics of one source only, not {sorted(source_names)}.")
    any_rows = reduce(operator.or_, (rows for _alias, _metric, rows in metrics))
    return (
        metrics[0][1]
        .source()
        .filter(any_rows)
        .order_by()
        .values("customer_id")
        .annotate(**{alias: metric.aggregate(rows) for alias, metric, rows in metrics})
    )


_REGISTRY: dict[str, Metric] = {}


def register(metric_class: type[Metric]) -> type[Metric]:
    """Class decorator: make the metric available to conditions under its code."""
    if metric_class.code in _REGISTRY:
        raise ValueError(f"A metric with code {metric_class.code!r} is already registered.")
    _REGISTRY[metric_class.code] = metric_class()
    return metric_class


def get_metric(code: str) -> Metric:
    """The registered metric, or a ValidationError naming the unknown code."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ValidationError(
            _("Unknown metric: %(code)s.") % {"code": code}, code="unknown_metric"
        ) from None


def metric_choices() -> list[tuple[str, str | Promise]]:
    """(code, label) of every registered metric, for the Condition's choices."""
    return [(metric.code, metric.label) for metric in _REGISTRY.values()]
