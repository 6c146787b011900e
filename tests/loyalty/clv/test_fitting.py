"""BG/NBD and Gamma-Gamma against the published CDNOW fits (Fader, Hardie and Lee; the
`lifetimes` package's documentation), on the sample `lifetimes` ships (tests/loyalty/data)."""

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import check_grad

from loyalty.clv import fitting
from loyalty.clv.fitting import (
    BgNbdParameters,
    FitError,
    GammaGammaParameters,
    expected_average_value,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    predicted_value,
    probability_alive,
)

DATA = Path(__file__).resolve().parent.parent / "data"


def cdnow() -> np.ndarray:
    """ID, frequency, recency, T (weeks)."""
    return np.loadtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", skiprows=1)


def cdnow_repeat_customers() -> np.ndarray:
    """ID, x, t_x, T, zbar of the customers with a repeat purchase."""
    table = np.loadtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", skiprows=1
    )
    return table[table[:, 1] > 0]


def two_significant_digits(value: float) -> float:
    return float(f"{value:.2g}")


def test_bgnbd_on_cdnow_matches_the_published_parameters():
    table = cdnow()
    assert table.shape == (2357, 4)

    fitted = fit_bgnbd(table[:, 1], table[:, 2], table[:, 3])

    assert fitted.converged
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert two_significant_digits(getattr(fitted, name)) == two_significant_digits(value)
        assert getattr(fitted, name) == pytest.approx(value, rel=2e-3), name
    # The paper's maximised log-likelihood: -9582.4 over the 2,357 customers.
    assert fitted.log_likelihood * table.shape[0] == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_on_cdnow_repeat_customers_matches_the_published_parameters():
    table = cdnow_repeat_customers()
    assert table.shape[0] == 946

    fitted = fit_gamma_gamma(table[:, 1], table[:, 4])

    assert fitted.converged
    assert fitted.p == pytest.approx(6.25, rel=5e-3)
    assert fitted.q == pytest.approx(3.74, rel=5e-3)
    assert fitted.v == pytest.approx(15.45, rel=5e-3)


def test_expected_mean_spend_matches_lifetimes_documentation():
    """lifetimes' docs list conditional_expected_average_profit for CDNOW's customers 1, 2, 6,
    7 and 9 (the first repeat customers) as 24.658616, 18.911480, 71.462851, 18.911480 and
    27.282408."""
    table = cdnow_repeat_customers()
    fitted = fit_gamma_gamma(table[:, 1], table[:, 4])

    values = expected_average_value(fitted, table[:5, 1], table[:5, 4])

    assert table[:5, 0].tolist() == [1, 2, 6, 7, 9]
    assert values == pytest.approx(
        [24.658616, 18.911480, 71.462851, 18.911480, 27.282408], abs=1e-3
    )
    # A customer without a repeat purchase gets the population's mean.
    assert expected_average_value(fitted, [0], [0])[0] == pytest.approx(
        fitted.v * fitted.p / (fitted.q - 1)
    )


def test_predictions_follow_the_models_closed_forms():
    params = BgNbdParameters(
        r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0, converged=True
    )
    # A new customer (x = 0) is alive for sure; the expectation is the unconditional one then
    # scaled: E[X(t)] for x = t_x = T = 0 equals the population's expected purchases in t.
    assert probability_alive(params, [0], [0], [10])[0] == 1.0
    t = 39.0
    unconditional = (
        (params.a + params.b - 1)
        / (params.a - 1)
        * (
            1
            - ((params.alpha / (params.alpha + t)) ** params.r)
            * float(
                fitting.hyp2f1(params.r, params.b, params.a + params.b - 1, t / (params.alpha + t))
            )
        )
    )
    assert expected_purchases(params, t, [0], [0], [0])[0] == pytest.approx(unconditional)
    # Someone who bought often and recently is expected to buy more than one who stopped long ago.
    recent, lapsed = expected_purchases(params, t, [5, 5], [38, 5], [39, 39])
    assert recent > lapsed
    alive_recent, alive_lapsed = probability_alive(params, [5, 5], [38, 5], [39, 39])
    assert 0 < alive_lapsed < alive_recent < 1
    # Expectations grow with the horizon.
    assert np.all(
        np.diff(expected_purchases(params, np.array(1.0), [2] * 3, [30] * 3, [39] * 3)) == 0
    )
    assert (
        expected_purchases(params, 10, [2], [30], [39])[0]
        < expected_purchases(params, 20, [2], [30], [39])[0]
    )


def test_predicted_value_is_the_discounted_sum_of_monthly_purchases_times_mean_spend():
    bgnbd = BgNbdParameters(
        r=0.243, alpha=4.414 * 7, a=0.793, b=2.426, log_likelihood=0, converged=True
    )
    gamma_gamma = GammaGammaParameters(p=6.25, q=3.74, v=15.45, log_likelihood=0, converged=True)
    x, t_x, big_t, m = [3.0], [200.0], [270.0], [40.0]

    value = predicted_value(
        bgnbd, gamma_gamma, x, t_x, big_t, m, months=3, monthly_discount_rate=0.01
    )[0]

    spend = expected_average_value(gamma_gamma, x, m)[0]
    cumulative = [0.0] + [expected_purchases(bgnbd, 30 * k, x, t_x, big_t)[0] for k in (1, 2, 3)]
    expected = sum(spend * (cumulative[k] - cumulative[k - 1]) / 1.01**k for k in (1, 2, 3))
    assert value == pytest.approx(expected)
    undiscounted = predicted_value(
        bgnbd, gamma_gamma, x, t_x, big_t, m, months=3, monthly_discount_rate=0.0
    )[0]
    assert undiscounted == pytest.approx(spend * cumulative[3])
    assert value < undiscounted


def test_the_gradients_are_the_likelihoods_derivatives():
    table = cdnow()
    bgnbd = fitting._BgNbdLikelihood(table[:, 1], table[:, 2], table[:, 3], np.ones(len(table)))
    repeat = cdnow_repeat_customers()
    gamma_gamma = fitting._GammaGammaLikelihood(repeat[:, 1], repeat[:, 4], np.ones(len(repeat)))
    for likelihood, point in (
        (bgnbd, np.array([-1.0, 1.0, 0.3, 0.5])),
        (bgnbd, np.zeros(4)),
        (gamma_gamma, np.array([1.5, 1.0, 2.0])),
    ):
        error = check_grad(lambda z, f=likelihood: f(z)[0], lambda z, f=likelihood: f(z)[1], point)
        assert error < 1e-5


def test_weights_count_customers_like_repeated_rows():
    table = cdnow()[:300]
    doubled = fit_bgnbd(np.tile(table[:, 1], 2), np.tile(table[:, 2], 2), np.tile(table[:, 3], 2))
    weighted = fit_bgnbd(table[:, 1], table[:, 2], table[:, 3], weights=np.full(300, 2.0))
    assert weighted.r == pytest.approx(doubled.r, rel=1e-4)
    assert weighted.b == pytest.approx(doubled.b, rel=1e-4)


@pytest.mark.parametrize(
    ("frequency", "recency", "T"),
    [
        ([0, 0, 0], [0, 0, 0], [5, 6, 7]),  # nobody came back
        ([1, 2], [3, 9], [2, 10]),  # a recency after the end
        ([-1, 2], [0, 3], [4, 5]),
    ],
)
def test_bgnbd_refuses_data_it_cannot_fit(frequency, recency, T):
    with pytest.raises(FitError):
        fit_bgnbd(frequency, recency, T)


def test_gamma_gamma_refuses_customers_without_repeat_purchases():
    with pytest.raises(FitError):
        fit_gamma_gamma([0, 2, 3], [0.0, 10.0, 12.0])
