"""Supervisors' KPIs, cached per day: one row per (day, scope) with every figure in a JSON
payload (workflows/kpis/snapshots.py writes them, the KPI page reads them).

A scope is a program (or every program), a team (or every team) and a tier of the program (or
every tier). `scope_key` spells the three out ("*" for every) so that (day, scope_key) is
unique on both databases (a unique constraint over nullable columns would let NULLs repeat),
and a rerun of the day replaces its rows through ON CONFLICT.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


def kpi_scope_key(*, program_id: int | None, team_id: int | None, tier_id: int | None) -> str:
    """`p<program>:t<team>:r<tier>`, `*` for every: "p1:t*:r*" is program 1, all teams."""

    def part(value: int | None) -> str:
        return "*" if value is None else str(value)

    return f"p{part(program_id)}:t{part(team_id)}:r{part(tier_id)}"


class KpiSnapshot(models.Model):
    day = models.DateField(_("day"))
    scope_key = models.CharField(_("scope"), max_length=60, editable=False)
    program = models.ForeignKey(
        "loyalty.Program",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,  # read by scope_key, deleted with the program (rare)
        related_name="+",
        verbose_name=_("program"),
    )
    team = models.ForeignKey(
        "crm.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("team"),
    )
    tier = models.ForeignKey(
        "loyalty.Tier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        verbose_name=_("tier"),
    )
    payload = models.JSONField(_("figures"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        ordering = ["-day", "scope_key"]
        constraints = [
            models.UniqueConstraint(fields=["day", "scope_key"], name="kpi_snapshot_unique_scope")
        ]
        indexes = [
            models.Index(fields=["scope_key", "-day"], name="kpi_snapshot_scope_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.scope_key}"
