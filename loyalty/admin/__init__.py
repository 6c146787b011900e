"""loyalty's admin, one module per area; importing them registers the ModelAdmins."""

from loyalty.admin import (
    benefits,
    earning,
    grace,
    memberships,
    points,
    programs,
    referrals,
    reports,
    rewards,
    stability,
)

__all__ = [
    "benefits",
    "earning",
    "grace",
    "memberships",
    "points",
    "programs",
    "referrals",
    "reports",
    "rewards",
    "stability",
]
