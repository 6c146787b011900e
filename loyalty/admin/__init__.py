"""loyalty's admin, one module per area; importing them registers the ModelAdmins."""

from loyalty.admin import earning, grace, memberships, programs, referrals, stability

__all__ = ["earning", "grace", "memberships", "programs", "referrals", "stability"]
