"""What loyalty's API shows: the selectors' dataclasses (loyalty.explain, loyalty.selectors)
as JSON. Read-only: tiers are written by the evaluation alone."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import choice_field_class
from loyalty.models import Condition, DowngradeWarning, GracePeriod, MembershipChange

ConditionOperatorField = choice_field_class("ConditionOperator", Condition.Operator.choices)
MembershipChangeKindField = choice_field_class(
    "MembershipChangeKind", MembershipChange.Kind.choices
)
WarningStatusField = choice_field_class("DowngradeWarningStatus", DowngradeWarning.Status.choices)
GraceReasonField = choice_field_class("GraceReason", GracePeriod.Reason.choices)


def _amount(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class ConditionOutputSerializer(serializers.Serializer):
    """One condition of a criterion group, the customer's value against its threshold."""

    metric = serializers.CharField()
    label = serializers.CharField(help_text=_("The metric and its parameters: Spend (card)."))
    parameters = serializers.DictField(child=serializers.CharField())
    window_months = serializers.IntegerField(allow_null=True)
    operator = ConditionOperatorField()
    threshold = _amount()
    value = _amount(help_text=_("The customer's value, as the evaluation computes it."))
    holds = serializers.BooleanField()
    gap = _amount(help_text=_("How far the value is from holding; 0 when it holds."))
    value_text = serializers.CharField()
    threshold_text = serializers.CharField()
    window_text = serializers.CharField()
    distance = serializers.CharField(
        help_text=_(
            "What it takes to hold, e.g. 12,000.00 more spend (card) within a "
            "12-month window; empty when it holds."
        )
    )


class GroupOutputSerializer(serializers.Serializer):
    """A criterion group: it holds when all its conditions hold."""

    name = serializers.CharField()
    holds = serializers.BooleanField()
    conditions = ConditionOutputSerializer(many=True)
    distance = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("One sentence per condition that does not hold."),
    )


class TierOutputSerializer(serializers.Serializer):
    """A tier and its groups: the customer qualifies when any group holds."""

    rank = serializers.IntegerField()
    name = serializers.CharField()
    holds = serializers.BooleanField()
    groups = GroupOutputSerializer(many=True)


class MembershipStateOutputSerializer(serializers.Serializer):
    tier_rank = serializers.IntegerField()
    tier_name = serializers.CharField()
    since = serializers.DateField()


class WarningOutputSerializer(serializers.Serializer):
    """A downgrade warning: the tier at risk and the day to qualify again by."""

    id = serializers.IntegerField()
    tier_rank = serializers.IntegerField()
    tier_name = serializers.CharField()
    opened_on = serializers.DateField()
    deadline = serializers.DateField()
    status = WarningStatusField()
    status_label = serializers.CharField()
    closed_on = serializers.DateField(allow_null=True)


class GraceOutputSerializer(serializers.Serializer):
    """An approved grace period running on the day: no downgrade until it ends."""

    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text=_("The first day without the freeze."))
    last_day = serializers.DateField()
    reason = GraceReasonField()
    reason_label = serializers.CharField()


class CreditBlockOutputSerializer(serializers.Serializer):
    """A serious credit event: the base tier, no requalification before `requalifies_on`."""

    occurred_at = serializers.DateTimeField()
    requalifies_on = serializers.DateField()


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "example": "01:00:00"}
)
class LocalTimeField(serializers.TimeField):
    """A time of day in the installation's time zone: no offset, which the `time` format of
    the schema would demand."""


class NextEvaluationOutputSerializer(serializers.Serializer):
    """What the nightly evaluation of the day will do if nothing changes before it ends."""

    runs_on = serializers.DateField()
    runs_at = LocalTimeField(allow_null=True)
    as_of = serializers.DateField()
    is_monthly = serializers.BooleanField(
        help_text=_("The month's first run: it counts months under the warning ratio.")
    )
    kind = MembershipChangeKindField(allow_null=True, help_text=_("Null: no change of tier."))
    to_rank = serializers.IntegerField(allow_null=True)
    to_tier = serializers.CharField()
    outcome = serializers.CharField(help_text=_("For example: moves up to Gold."))
    counts_month_under_ratio = serializers.BooleanField()
    opens_warning = serializers.BooleanField()
    new_warning_deadline = serializers.DateField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())


class ChangeOutputSerializer(serializers.Serializer):
    """A change of tier: from, to, why, by whom (a run or a named user)."""

    id = serializers.IntegerField()
    evaluated_on = serializers.DateField()
    kind = MembershipChangeKindField()
    kind_label = serializers.CharField()
    from_rank = serializers.IntegerField(allow_null=True)
    from_tier = serializers.CharField()
    to_rank = serializers.IntegerField()
    to_tier = serializers.CharField()
    reason = serializers.CharField()
    run_id = serializers.IntegerField(allow_null=True)
    changed_by_id = serializers.IntegerField(allow_null=True)
    changed_by = serializers.CharField()


class ExplanationOutputSerializer(serializers.Serializer):
    """A customer's membership of one program, explained."""

    program_id = serializers.IntegerField()
    program_code = serializers.CharField()
    program_name = serializers.CharField()
    as_of = serializers.DateField()
    is_evaluated = serializers.BooleanField(
        help_text=_("False when the evaluation leaves the customer out (merged).")
    )
    membership = MembershipStateOutputSerializer(
        allow_null=True, help_text=_("Null: not evaluated yet.")
    )
    qualified_rank = serializers.IntegerField(allow_null=True)
    qualified_tier = serializers.CharField()
    qualified_group = serializers.CharField()
    tiers = TierOutputSerializer(many=True, help_text=_("Every tier, the highest first."))
    next_tier = TierOutputSerializer(
        allow_null=True, help_text=_("The tier above, with the distance per group.")
    )
    under_ratio = serializers.BooleanField()
    warning_ratio = serializers.DecimalField(max_digits=3, decimal_places=2)
    months_under_ratio = serializers.IntegerField()
    warning_after_months = serializers.IntegerField()
    warning = WarningOutputSerializer(allow_null=True, help_text=_("The open warning."))
    grace = GraceOutputSerializer(allow_null=True)
    credit_block = CreditBlockOutputSerializer(allow_null=True)
    next_evaluation = NextEvaluationOutputSerializer(allow_null=True)
    changes = ChangeOutputSerializer(many=True, help_text=_("The last changes, newest first."))
    warnings = WarningOutputSerializer(many=True, help_text=_("The last warnings, newest first."))


class CustomerMembershipsOutputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    as_of = serializers.DateField()
    programs = ExplanationOutputSerializer(many=True)


class TierCountOutputSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField()
    members = serializers.IntegerField()


class TierDistributionOutputSerializer(serializers.Serializer):
    """Members per tier among the customers the caller may see."""

    program_code = serializers.CharField()
    program_name = serializers.CharField()
    tiers = TierCountOutputSerializer(many=True)
    not_evaluated = serializers.IntegerField(
        help_text=_("Customers without a membership of the program yet.")
    )
    customers = serializers.IntegerField()
