"""loyalty's admin, one module per area; importing them registers the ModelAdmins."""

from loyalty.admin import benefits, grace, memberships, programs, rewards, stability

__all__ = ["benefits", "grace", "memberships", "programs", "rewards", "stability"]
