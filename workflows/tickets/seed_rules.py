"""Example routing rules (Chinese and English keywords): app trouble to tech support, product
questions to sales, the rest to customer service. Idempotent: a rule is known by its order, so
running it again changes nothing, and a rule a supervisor edited since is left as it is."""

from workflows.models import RoutingRule
from workflows.models.tickets import Department, TicketCategory

RULES = [
    # (order, category, keywords, department)
    (10, "", "闪退/登录/app/crash/login", Department.TECH_SUPPORT),
    (20, TicketCategory.APP, "", Department.TECH_SUPPORT),
    (30, "", "理财/贷款/产品/loan/wealth management", Department.SALES),
    (40, TicketCategory.SALES, "", Department.SALES),
    (100, "", "", Department.CUSTOMER_SERVICE),
]


def tickets_seed_rules() -> int:
    """Create the example rules that are missing; returns how many were created."""
    existing = set(RoutingRule.objects.values_list("order", flat=True))
    missing = [
        RoutingRule(order=order, category=category, keywords=keywords, department=department)
        for order, category, keywords, department in RULES
        if order not in existing
    ]
    RoutingRule.objects.bulk_create(missing)
    return len(missing)
