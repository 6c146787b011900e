"""Writes to a program's conditions: new thresholds, saved together after a preview."""

from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from loyalty.models import Condition


@transaction.atomic
def condition_thresholds_update(
    *,
    program_id: int,
    thresholds: Mapping[int, Decimal],
    expected: Mapping[int, Decimal] | None = None,
) -> list[Condition]:
    """Set the thresholds {condition id: threshold} of a program's conditions in one
    transaction; only the threshold column of the conditions that change is written.

    `expected`, the program's thresholds as they were when the change was previewed: if a
    condition was added, removed or changed since, nothing is written. Returns the changed
    conditions.
    """
    # Locks the program's conditions (pk order), so that the check below holds until commit.
    conditions = {
        condition.pk: condition
        for condition in Condition.objects.select_for_update(of=("self",))
        .filter(group__tier__program_id=program_id)
        .order_by("pk")
    }
    unknown = set(thresholds) - set(conditions)
    if unknown:
        raise ValidationError(
            _("These conditions are not the program's: %(ids)s.")
            % {"ids": ", ".join(map(str, sorted(unknown)))},
            code="unknown_condition",
        )
    if expected is not None and (
        set(expected) != set(conditions)
        or any(conditions[pk].threshold != value for pk, value in expected.items())
    ):
        raise ValidationError(
            _("The program's conditions changed since the preview. Preview again."),
            code="changed_since_preview",
        )
    field = Condition._meta.get_field("threshold")
    changed = []
    for pk, value in thresholds.items():
        condition = conditions[pk]
        if value < 0:
            raise ValidationError(_("A threshold cannot be negative."), code="negative_threshold")
        for validator in field.validators:  # the column's digits
            validator(value)
        if condition.threshold != value:
            condition.threshold = value
            changed.append(condition)
    Condition.objects.bulk_update(changed, ["threshold"])
    return changed
