"""Customer lifetime value: each night's fitted models, and one narrow row per customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ValueModelRun(models.Model):
    """The BG/NBD and Gamma-Gamma models fitted as of a day (loyalty.clv), one run per day: a
    second run of the same day refits on the same data and writes the same numbers.

    Times are in days: `alpha` is the BG/NBD scale in days; `v` the Gamma-Gamma scale in the
    default currency."""

    as_of = models.DateField(_("as of"), unique=True)
    fitted_at = models.DateTimeField(_("fitted at"))
    customers = models.PositiveIntegerField(
        _("customers"), help_text=_("Customers with at least one purchase: the BG/NBD sample.")
    )
    repeat_customers = models.PositiveIntegerField(
        _("repeat customers"),
        help_text=_("Customers with more than one day of purchases: the Gamma-Gamma sample."),
    )
    bgnbd_r = models.FloatField("r")
    bgnbd_alpha = models.FloatField("alpha")
    bgnbd_a = models.FloatField("a")
    bgnbd_b = models.FloatField("b")
    bgnbd_log_likelihood = models.FloatField(_("BG/NBD mean log-likelihood"))
    gamma_gamma_p = models.FloatField("p")
    gamma_gamma_q = models.FloatField("q")
    gamma_gamma_v = models.FloatField("v")
    gamma_gamma_log_likelihood = models.FloatField(_("Gamma-Gamma mean log-likelihood"))
    converged = models.BooleanField(_("converged"))
    horizon_months = models.PositiveSmallIntegerField(_("horizon (months)"))
    monthly_discount_rate = models.FloatField(_("monthly discount rate"))
    currency = models.CharField(_("currency"), max_length=3)
    fit_seconds = models.FloatField(
        _("fit (seconds)"), help_text=_("Reading every customer's purchases and fitting.")
    )
    score_seconds = models.FloatField(
        _("scoring (seconds)"), help_text=_("Scoring every customer and storing the values.")
    )

    class Meta:
        verbose_name = _("lifetime value model run")
        verbose_name_plural = _("lifetime value model runs")
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"{self.as_of}: {self.customers}"


class CustomerValue(models.Model):
    """A customer's lifetime value as of the last run; only customers with a purchase have one.

    Rewritten every night set-based (loyalty.services.customer_values), so kept narrow."""

    customer = models.OneToOneField(
        "crm.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="lifetime_value",
        verbose_name=_("customer"),
    )
    run = models.ForeignKey(
        ValueModelRun,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("model run"),
        db_index=False,  # never looked up by run: every row belongs to the latest one
        # Every row moves to the new run each night: on PostgreSQL a (deferred) foreign key
        # check per row at commit, about a million a night, for a reference the service
        # writes itself in the same transaction as the run.
        db_constraint=False,
    )
    historical_value = models.DecimalField(_("historical value"), max_digits=14, decimal_places=2)
    expected_purchases_90_days = models.FloatField(_("expected purchases in the next 90 days"))
    probability_alive = models.FloatField(_("probability still active"))
    predicted_value = models.DecimalField(_("predicted value"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("customer lifetime value")
        verbose_name_plural = _("customer lifetime values")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.predicted_value}"
