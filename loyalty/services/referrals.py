"""Referrals: an RM records that their customer referred another. The commission is paid by
the earning pass (loyalty.earning.referrals) on the referred customer's first qualifying
purchase."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from crm.selectors import User, customer_visibility_q
from loyalty.models import Program, Referral


@transaction.atomic
def referral_record(
    *, program: Program, referrer: Customer, referred: Customer, recorded_by: User
) -> Referral:
    """Record a referral. Both customers must be visible to the user; a customer is referred
    at most once per program."""
    if referrer.pk == referred.pk:
        raise ValidationError(
            {"referred": _("A customer cannot refer themselves.")}, code="self_referral"
        )
    visible = set(
        Customer.objects.filter(
            customer_visibility_q(recorded_by), pk__in=[referrer.pk, referred.pk]
        ).values_list("pk", flat=True)
    )
    errors = {
        field: ValidationError(_("Choose a customer you may see."), code="not_visible")
        for field, customer in (("referrer", referrer), ("referred", referred))
        if customer.pk not in visible
    }
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return Referral.objects.create(
                program=program, referrer=referrer, referred=referred, created_by_id=recorded_by.pk
            )
    except IntegrityError:
        raise ValidationError(
            {"referred": _("This customer was already referred in this program.")},
            code="already_referred",
        ) from None
