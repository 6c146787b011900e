"""Points earned as another system computed them (the earn API), posted through the ledger.

The caller's idempotency key is the entry's key (`api:{user}:{key}`): the API's stored answer
and the entry are written in one transaction, and a retry finds both.
"""

from datetime import date

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.models import PointsAccount, PointsEntry
from loyalty.services import ledger

MAX_EARN_POINTS = 1_000_000


def points_api_key(*, user_id: int, key: str) -> str:
    return f"api:{user_id}:{key}"


def points_earn_reported(
    *,
    actor: AbstractUser,
    account: PointsAccount,
    points: int,
    reason: str,
    key: str,
    fingerprint: str = "",
    occurred_on: date | None = None,
) -> ledger.Posting:
    """Credit `points` (1..1,000,000) earned on `occurred_on` (default today, never later);
    they expire as the account's program says. `account.program` should be loaded.

    One posting, which is its own transaction (ledger.credit): no atomic block of its own, as
    the earn API is hot and a savepoint is two more round trips."""
    today = timezone.localdate()
    occurred_on = occurred_on or today
    if not 1 <= points <= MAX_EARN_POINTS:
        raise ValidationError(
            {"points": _("Between 1 and %(max)s points.") % {"max": MAX_EARN_POINTS}},
            code="points_out_of_range",
        )
    if occurred_on > today:
        raise ValidationError(
            {"occurred_on": _("The day cannot be in the future.")}, code="occurred_in_future"
        )
    if not account.program.is_active:
        raise ValidationError(_("The program is not active."), code="program_inactive")
    return ledger.credit(
        account=account,
        kind=PointsEntry.Kind.EARN,
        points=points,
        key=key,
        fingerprint=fingerprint,
        occurred_on=occurred_on,
        expires_on=ledger.expiry_for(account.program, occurred_on),
        note=reason,
        created_by=actor,
    )
