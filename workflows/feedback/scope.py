"""Who sees which feedback responses: crm's one visibility rule over the response's customer,
and anonymous open-link responses (no customer) for supervisors only: they belong to no RM.
"""

from django.db.models import Q

from crm.models import Customer
from crm.selectors import User, customer_visibility_q, user_can_see_all_customers
from workflows.selectors import user_supervises


def response_visibility_q(user: User, *, prefix: str = "") -> Q:
    """The responses `user` may see; `prefix` leads to the response, e.g. "response__"."""
    if user.is_active and user_can_see_all_customers(user):
        # Not `Q() | ...`: an empty Q or'ed with another is that other one alone.
        return Q()
    # "customer IN (visible customers)" rather than a join: PostgreSQL hashes the visible ids
    # once, and the OR with the anonymous rows stays a filter on the responses alone.
    visible = Q(
        **{
            f"{prefix}customer_id__in": Customer.objects.filter(customer_visibility_q(user)).values(
                "pk"
            )
        }
    )
    if user_supervises(user):
        return visible | Q(**{f"{prefix}customer__isnull": True})
    return visible
