"""The program's "Thresholds: preview and save" page (opened from ProgramAdmin).

A supervisor edits every condition's threshold in one table, previews what the change would
do on the live data, and saves only values that were previewed: the preview hands out a
signed token of the values it computed with, and a save whose values differ is refused.
The page also advises the threshold a target share of customers reaches.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from loyalty.metrics import get_metric
from loyalty.models import Condition, Program
from loyalty.preview import rules_compare, threshold_for_share
from loyalty.rules import ConditionRule, GroupRule, ProgramRules, TierRule, with_thresholds
from loyalty.services.conditions import condition_thresholds_update

URL_NAME = "loyalty_program_thresholds"
PERMISSION = "loyalty.change_condition"
# The seeds' advice: the top 20% should be able to reach the tier below the top.
DEFAULT_SHARE = 20
_PREVIEW_SALT = "loyalty.program.thresholds-preview"
# Live data moves: a preview older than this no longer vouches for what a save would do.
TOKEN_MAX_AGE = 60 * 60


@dataclass(frozen=True)
class ConditionRow:
    tier: TierRule
    group: GroupRule
    condition: ConditionRule

    @property
    def id(self) -> int:
        assert self.condition.id is not None  # noqa: S101 - loaded from the database
        return self.condition.id

    @property
    def field_name(self) -> str:
        return f"threshold_{self.id}"

    @property
    def metric_label(self) -> str:
        return str(get_metric(self.condition.metric).label)

    @property
    def parameters_text(self) -> str:
        return ", ".join(f"{name}={value}" for name, value in self.condition.parameters)

    @property
    def operator_label(self) -> str:
        return str(Condition.Operator(self.condition.operator).label)

    def describe(self) -> str:
        """One line naming the condition, for the advice's choices."""
        window = (
            str(_("%(months)s months") % {"months": self.condition.window_months})
            if self.condition.window_months
            else ""
        )
        details = ", ".join(part for part in (self.parameters_text, window) if part)
        details = f" ({details})" if details else ""
        return (
            f"{self.tier.name} ({self.tier.rank}★) · {self.group.name}: "
            f"{self.metric_label}{details} {self.condition.operator}"
        )


def condition_rows(rules: ProgramRules) -> list[ConditionRow]:
    """Every condition of every tier, the highest tier first."""
    return [
        ConditionRow(tier=tier, group=group, condition=condition)
        for tier in reversed(rules.tiers)
        for group in tier.groups
        for condition in group.conditions
    ]


class ThresholdsForm(forms.Form):
    """One threshold input per condition, validated like the model field."""

    def __init__(self, *args: Any, rows: list[ConditionRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        model_field = Condition._meta.get_field("threshold")
        for row in rows:
            self.fields[row.field_name] = forms.DecimalField(
                label=row.describe(),
                max_digits=model_field.max_digits,
                decimal_places=model_field.decimal_places,
                min_value=Decimal(0),
                initial=row.condition.threshold,
            )

    def thresholds(self) -> dict[int, Decimal]:
        return {row.id: self.cleaned_data[row.field_name] for row in self.rows}


class AdviceForm(forms.Form):
    condition = forms.TypedChoiceField(label=_("condition"), coerce=int)
    share = forms.IntegerField(
        label=_("target share of customers (%)"),
        min_value=1,
        max_value=99,
        initial=DEFAULT_SHARE,
    )

    def __init__(self, *args: Any, rows: list[ConditionRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = [(row.id, row.describe()) for row in rows]


def preview_token_make(
    *, program_id: int, user_id: int, saved: dict[int, Decimal], proposed: dict[int, Decimal]
) -> str:
    """A signed token of the previewed values and of the saved ones they were compared with."""
    return signing.dumps(
        {
            "program": program_id,
            "user": user_id,
            "saved": _plain(saved),
            "proposed": _plain(proposed),
        },
        salt=_PREVIEW_SALT,
    )


def preview_token_check(
    token: str, *, program_id: int, user_id: int, proposed: dict[int, Decimal]
) -> dict[int, Decimal]:
    """The saved thresholds the preview compared with, if `token` is this user's preview of
    exactly `proposed` for this program; a ValidationError otherwise."""
    if not token:
        raise ValidationError(_("Preview the thresholds before saving them."), code="not_previewed")
    try:
        data = signing.loads(token, salt=_PREVIEW_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(
            _("The preview is more than an hour old. Preview the thresholds again."),
            code="preview_expired",
        ) from None
    except signing.BadSignature:
        raise ValidationError(
            _("The preview could not be verified. Preview the thresholds again."),
            code="preview_invalid",
        ) from None
    if data.get("program") != program_id or data.get("user") != user_id:
        raise ValidationError(
            _("The preview could not be verified. Preview the thresholds again."),
            code="preview_invalid",
        )
    if _decimals(data["proposed"]) != proposed:
        raise ValidationError(
            _(
                "The thresholds differ from the ones previewed. Preview them, then save. "
                "Nothing was saved."
            ),
            code="differs_from_preview",
        )
    return _decimals(data["saved"])


def _plain(values: dict[int, Decimal]) -> dict[str, str]:
    return {str(pk): str(value) for pk, value in values.items()}


def _decimals(values: dict[str, str]) -> dict[int, Decimal]:
    return {int(pk): Decimal(value) for pk, value in values.items()}


def thresholds_view(
    model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """GET: the form (and advice when asked); POST action=preview or action=save."""
    program = _program_or_404(model_admin, request, object_id)
    if not (
        model_admin.has_view_permission(request, program) and request.user.has_perm(PERMISSION)
    ):
        raise PermissionDenied
    rules = ProgramRules.load(program.pk)
    rows = condition_rows(rules)
    saved = {row.id: row.condition.threshold for row in rows}
    comparison, token, proposed = None, "", saved
    if request.method == "POST" and rows:
        form = ThresholdsForm(request.POST, rows=rows)
        if form.is_valid():
            proposed = form.thresholds()
            if request.POST.get("action") == "save":
                try:
                    expected = preview_token_check(
                        request.POST.get("token", ""),
                        program_id=program.pk,
                        user_id=request.user.pk,
                        proposed=proposed,
                    )
                    changed = condition_thresholds_update(
                        program_id=program.pk, thresholds=proposed, expected=expected
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    for condition in changed:  # who changed which threshold: the admin's log
                        model_admin.log_change(
                            request, condition, [{"changed": {"fields": ["threshold"]}}]
                        )
                    model_admin.message_user(
                        request, _saved_message(len(changed)), messages.SUCCESS
                    )
                    return HttpResponseRedirect(request.path)
            else:
                comparison = rules_compare(
                    program=program, rules=with_thresholds(rules, proposed), saved_rules=rules
                )
                token = preview_token_make(
                    program_id=program.pk, user_id=request.user.pk, saved=saved, proposed=proposed
                )
    else:
        form = ThresholdsForm(rows=rows)
    advice_form, advice = _advice(program, rules, rows, request)
    opts = model_admin.opts
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": _("Thresholds: preview and save"),
        "subtitle": str(program),
        "program": program,
        "program_url": reverse(
            f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[program.pk],
        ),
        "form": form,
        "rows": [
            {
                "row": row,
                "field": form[row.field_name],
                "changed": proposed[row.id] != saved[row.id],
            }
            for row in rows
        ],
        "comparison": comparison,
        "token": token,
        "advice_form": advice_form,
        "advice": advice,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/loyalty/program/thresholds.html", context)


def _program_or_404(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str):
    try:
        program = model_admin.get_object(request, unquote(object_id))
    except (TypeError, ValueError) as error:
        raise Http404 from error
    if program is None:
        raise Http404
    return program


def _advice(
    program: Program, rules: ProgramRules, rows: list[ConditionRow], request: HttpRequest
) -> tuple[AdviceForm, dict[str, Any] | None]:
    """The advice form, bound when the page was asked for advice, and its answer."""
    if not rows:
        return AdviceForm(rows=rows), None
    if "condition" not in request.GET:
        return AdviceForm(rows=rows, initial={"condition": _seeds_choice(rules, rows)}), None
    form = AdviceForm(request.GET, rows=rows)
    if not form.is_valid():
        return form, None
    row = next(row for row in rows if row.id == form.cleaned_data["condition"])
    share = form.cleaned_data["share"]
    threshold = threshold_for_share(
        program=program, condition=row.condition, share=Decimal(share) / 100
    )
    return form, {"row": row, "share": share, "threshold": threshold}


def _seeds_choice(rules: ProgramRules, rows: list[ConditionRow]) -> int:
    """The first condition of the tier below the top, else the first condition."""
    below_top = rules.below(rules.tiers[-1].rank) if rules.tiers else None
    if below_top is not None:
        for row in rows:
            if row.tier.rank == below_top.rank:
                return row.id
    return rows[0].id


def _saved_message(count: int) -> str:
    if not count:
        return str(_("No threshold changed."))
    return ngettext(
        "%(count)d threshold saved. The next evaluation applies it.",
        "%(count)d thresholds saved. The next evaluation applies them.",
        count,
    ) % {"count": count}
