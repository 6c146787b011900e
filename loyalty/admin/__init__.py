"""loyalty's admin, one module per area; importing them registers the ModelAdmins."""

from loyalty.admin import (
    earning,
    grace,
    memberships,
    points,
    programs,
    referrals,
    reports,
    stability,
)

__all__ = [
    "earning",
    "grace",
    "memberships",
    "points",
    "programs",
    "referrals",
    "reports",
    "stability",
]
