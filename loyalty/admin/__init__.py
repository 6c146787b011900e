"""loyalty's admin, one module per area; importing them registers the ModelAdmins."""

from loyalty.admin import grace, memberships, programs, reports, stability

__all__ = ["grace", "memberships", "programs", "reports", "stability"]
