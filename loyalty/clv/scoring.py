"""Each customer's scores from the fitted models, on the arrays of a purchase summary."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from loyalty.clv.fitting import (
    BgNbdParameters,
    GammaGammaParameters,
    expected_purchases,
    predicted_value,
    probability_alive,
)
from loyalty.clv.summary import PurchaseSummary

EXPECTED_PURCHASES_DAYS = 90
MAX_CENTS = 10**14 - 1  # the largest DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class Scores:
    expected_purchases_90_days: NDArray[np.float64]
    probability_alive: NDArray[np.float64]
    predicted_cents: NDArray[np.int64]
    not_finite: int  # customers whose numbers could not be computed, scored 0


def _finite(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], int]:
    bad = ~np.isfinite(values)
    return np.where(bad, 0.0, values), int(bad.sum())


def customer_scores(
    summary: PurchaseSummary,
    bgnbd: BgNbdParameters,
    gamma_gamma: GammaGammaParameters,
    *,
    months: int,
    monthly_discount_rate: float,
) -> Scores:
    """Expected purchases in the next 90 days, probability alive, and the discounted value of
    the next `months` months, for every customer of the summary (times in days)."""
    x, t_x, big_t = summary.frequency, summary.recency, summary.T
    expected, bad_expected = _finite(
        expected_purchases(bgnbd, EXPECTED_PURCHASES_DAYS, x, t_x, big_t)
    )
    alive, bad_alive = _finite(probability_alive(bgnbd, x, t_x, big_t))
    value, bad_value = _finite(
        predicted_value(
            bgnbd,
            gamma_gamma,
            x,
            t_x,
            big_t,
            summary.monetary,
            months=months,
            monthly_discount_rate=monthly_discount_rate,
        )
    )
    cents = np.clip(np.rint(value * 100), 0, MAX_CENTS).astype(np.int64)
    return Scores(
        expected_purchases_90_days=np.maximum(expected, 0.0),
        probability_alive=np.clip(alive, 0.0, 1.0),
        predicted_cents=cents,
        not_finite=max(bad_expected, bad_alive, bad_value),
    )
