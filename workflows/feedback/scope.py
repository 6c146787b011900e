"""Who sees which feedback responses: crm's one visibility rule over the response's customer,
and anonymous open-link responses (no customer) for supervisors only: they belong to no RM.
"""

from django.db.models import Q

from crm.selectors import User, customer_visibility_q, user_can_see_all_customers
from workflows.selectors import user_supervises


def response_visibility_q(user: User, *, prefix: str = "") -> Q:
    """The responses `user` may see; `prefix` leads to the response, e.g. "response__"."""
    if user.is_active and user_can_see_all_customers(user):
        # Not `Q() | ...`: an empty Q or'ed with another is that other one alone.
        return Q()
    visible = customer_visibility_q(user, prefix=f"{prefix}customer__")
    if user_supervises(user):
        return visible | Q(**{f"{prefix}customer__isnull": True})
    return visible
