"""Fit the lifetime value models on every customer's purchases and store each customer's scores.

One run per day (`as_of`, a local day): the summary is read in one statement, both models are
fitted on it, every customer is scored in numpy, and the scores are written set-based: into a
temporary table (COPY on PostgreSQL, `executemany` in chunks on SQLite), then one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE` that rewrites only the rows whose numbers differ,
and one DELETE of the customers who no longer have a purchase. The same day run again reads the
same data, fits the same parameters (the fit is deterministic) and so changes no score.
"""

import io
import logging
import time
from dataclasses import dataclass
from datetime import date
from itertools import islice

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.clv.fitting import FitError, fit_bgnbd, fit_gamma_gamma
from loyalty.clv.scoring import Scores, customer_scores
from loyalty.clv.summary import PurchaseSummary, purchase_summary
from loyalty.models import CustomerValue, ValueModelRun

logger = logging.getLogger(__name__)

SCORES_TABLE = "loyalty_clv_scores"
SQLITE_CHUNK_ROWS = 10_000
MIN_REPEAT_CUSTOMERS = 2  # Gamma-Gamma has nothing to fit below this


@dataclass(frozen=True)
class CustomerValuesResult:
    run: ValueModelRun
    written: int  # rows inserted or changed
    deleted: int  # customers who no longer have a purchase
    # Seconds: reading the summary, fitting both models, scoring in numpy, writing the rows.
    summary_seconds: float
    fitting_seconds: float
    scoring_seconds: float
    writing_seconds: float


def _fit(summary: PurchaseSummary):
    repeat = summary.frequency > 0
    if int(repeat.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ValidationError(
            _("Lifetime value needs at least %(count)d customers with repeat purchases."),
            code="too_few_customers",
            params={"count": MIN_REPEAT_CUSTOMERS},
        )
    try:
        bgnbd = fit_bgnbd(summary.frequency, summary.recency, summary.T)
        gamma_gamma = fit_gamma_gamma(summary.frequency[repeat], summary.monetary[repeat])
    except FitError as error:
        raise ValidationError(
            _("The lifetime value models could not be fitted: %(error)s"),
            code="fit_failed",
            params={"error": str(error)},
        ) from error
    if gamma_gamma.q <= 1:
        raise ValidationError(
            _("The fitted spend model has no finite mean (q <= 1): not enough repeat purchases."),
            code="no_finite_mean",
        )
    return bgnbd, gamma_gamma, int(repeat.sum())


def _scores_fill(summary: PurchaseSummary, scores: Scores) -> None:
    """The temporary table `SCORES_TABLE`, one row per customer, money in cents."""
    columns = (
        "customer_id, historical_cents, expected_purchases_90_days, probability_alive,"
        " predicted_cents"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCORES_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {SCORES_TABLE} (customer_id bigint PRIMARY KEY,"
            " historical_cents bigint NOT NULL, expected_purchases_90_days double precision"
            " NOT NULL, probability_alive double precision NOT NULL, predicted_cents bigint"
            " NOT NULL)"
        )
        if connection.vendor == "postgresql":
            table = np.empty(
                summary.size,
                dtype=[("id", "i8"), ("h", "i8"), ("e", "f8"), ("p", "f8"), ("v", "i8")],
            )
            table["id"], table["h"] = summary.customer_ids, summary.historical_cents
            table["e"], table["p"] = scores.expected_purchases_90_days, scores.probability_alive
            table["v"] = scores.predicted_cents
            text = io.StringIO()
            # %.17g writes a double that reads back bit for bit: a rerun compares equal.
            np.savetxt(text, table, fmt="%d\t%d\t%.17g\t%.17g\t%d")
            with cursor.cursor.copy(f"COPY {SCORES_TABLE} ({columns}) FROM STDIN") as copy:
                copy.write(text.getvalue())
            return
        rows = zip(
            summary.customer_ids.tolist(),
            summary.historical_cents.tolist(),
            scores.expected_purchases_90_days.tolist(),
            scores.probability_alive.tolist(),
            scores.predicted_cents.tolist(),
            strict=True,
        )
        sql = f"INSERT INTO {SCORES_TABLE} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
        while chunk := list(islice(rows, SQLITE_CHUNK_ROWS)):
            cursor.executemany(sql, chunk)


def _scores_store(run: ValueModelRun) -> tuple[int, int]:
    """From the temporary table into CustomerValue: (rows written, rows deleted)."""
    quote = connection.ops.quote_name
    values = quote(CustomerValue._meta.db_table)
    money = (
        "CAST(s.{column} AS numeric) / 100"
        if connection.vendor == "postgresql"
        else "ROUND(s.{column} / 100.0, 2)"
    )
    changed = " OR ".join(
        f"{values}.{column} <> EXCLUDED.{column}"
        for column in (
            "run_id",
            "historical_value",
            "expected_purchases_90_days",
            "probability_alive",
            "predicted_value",
        )
    )
    with connection.cursor() as cursor:
        # "WHERE 1 = 1": SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
        cursor.execute(
            f"INSERT INTO {values} (customer_id, run_id, historical_value,"  # noqa: S608
            " expected_purchases_90_days, probability_alive, predicted_value)"
            f" SELECT s.customer_id, %s, {money.format(column='historical_cents')},"
            " s.expected_purchases_90_days, s.probability_alive,"
            f" {money.format(column='predicted_cents')}"
            f" FROM {SCORES_TABLE} s WHERE 1 = 1"
            " ON CONFLICT (customer_id) DO UPDATE SET run_id = EXCLUDED.run_id,"
            " historical_value = EXCLUDED.historical_value,"
            " expected_purchases_90_days = EXCLUDED.expected_purchases_90_days,"
            " probability_alive = EXCLUDED.probability_alive,"
            f" predicted_value = EXCLUDED.predicted_value WHERE {changed}",
            [run.pk],
        )
        written = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {values} WHERE NOT EXISTS (SELECT 1 FROM {SCORES_TABLE} s"  # noqa: S608
            f" WHERE s.customer_id = {values}.customer_id)"
        )
        deleted = cursor.rowcount
        cursor.execute(f"DROP TABLE IF EXISTS {SCORES_TABLE}")
    return written, deleted


def customer_values_refresh(*, as_of: date) -> CustomerValuesResult:
    """Fit BG/NBD and Gamma-Gamma on the purchases up to the end of `as_of` and rescore every
    customer; the run of `as_of` is created or refreshed. Raises `ValidationError` when there
    is too little to fit, and then changes nothing."""
    started = time.monotonic()
    summary = purchase_summary(as_of=as_of)
    read = time.monotonic()
    bgnbd, gamma_gamma, repeat_customers = _fit(summary)
    fitted = time.monotonic()
    months = settings.LOYALTY_CLV_HORIZON_MONTHS
    rate = float(settings.LOYALTY_CLV_MONTHLY_DISCOUNT_RATE)
    scores = customer_scores(summary, bgnbd, gamma_gamma, months=months, monthly_discount_rate=rate)
    scored = time.monotonic()
    if scores.not_finite:
        logger.warning("clv: %d customers could not be scored and got 0", scores.not_finite)
    with transaction.atomic():
        run, _created = ValueModelRun.objects.update_or_create(
            as_of=as_of,
            defaults={
                "fitted_at": timezone.now(),
                "customers": summary.size,
                "repeat_customers": repeat_customers,
                "bgnbd_r": bgnbd.r,
                "bgnbd_alpha": bgnbd.alpha,
                "bgnbd_a": bgnbd.a,
                "bgnbd_b": bgnbd.b,
                "bgnbd_log_likelihood": bgnbd.log_likelihood,
                "gamma_gamma_p": gamma_gamma.p,
                "gamma_gamma_q": gamma_gamma.q,
                "gamma_gamma_v": gamma_gamma.v,
                "gamma_gamma_log_likelihood": gamma_gamma.log_likelihood,
                "converged": bgnbd.converged and gamma_gamma.converged,
                "horizon_months": months,
                "monthly_discount_rate": rate,
                "currency": settings.CRM_DEFAULT_CURRENCY,
                "fit_seconds": round(fitted - started, 3),
                "score_seconds": 0.0,
            },
        )
        _scores_fill(summary, scores)
        written, deleted = _scores_store(run)
        written_at = time.monotonic()
        run.score_seconds = round(written_at - fitted, 3)
        run.save(update_fields=["score_seconds"])
    logger.info(
        "clv: as of %s, %d customers (%d repeat), %d rows written, %d deleted",
        as_of,
        summary.size,
        repeat_customers,
        written,
        deleted,
    )
    return CustomerValuesResult(
        run=run,
        written=written,
        deleted=deleted,
        summary_seconds=read - started,
        fitting_seconds=fitted - read,
        scoring_seconds=scored - fitted,
        writing_seconds=written_at - scored,
    )
