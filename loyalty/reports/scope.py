"""Who may read the points reports, and over which customers.

The reports need `loyalty.view_points_reports` (the Supervisor group has it). Their figures
cover the customers the reader may see, by crm's one visibility rule: a supervisor's figures
are their teams' customers, so one team's numbers never show another's; a user who may see
every customer (`crm.view_all_customers`) gets the company-wide figures, read without joining
the customers at all.
"""

from django.db.models import Q

from crm.selectors import User, customer_visibility_q, user_can_see_all_customers

REPORTS_PERMISSION = "loyalty.view_points_reports"


def user_can_view_points_reports(user: User) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(REPORTS_PERMISSION))


def reports_scope_is_company_wide(user: User) -> bool:
    return user_can_see_all_customers(user)


def account_scope_q(user: User, *, prefix: str = "") -> Q:
    """The points accounts of the customers `user` may see; `prefix` leads to the account."""
    return customer_visibility_q(user, prefix=f"{prefix}customer__")
