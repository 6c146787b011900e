"""loyalty's admin, one module per area; importing them registers the ModelAdmins."""

from loyalty.admin import memberships, programs, stability

__all__ = ["memberships", "programs", "stability"]
