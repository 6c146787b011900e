"""Which department takes a new ticket.

The first active RoutingRule, by order, whose category matches (an empty category matches any)
and, if it has keywords, one of them occurs in the subject or the description. A keyword with
Chinese (any non-ASCII) characters matches as a substring ("闪退" in "手机银行闪退了"); an
English one as a whole word, case-insensitive ("app" matches "The App crashes", not "happy").
Keywords are separated by "/", commas (also "，" and "、") or new lines.

No rule matches: DEFAULT_DEPARTMENTS by category (app and online banking -> tech support,
product enquiries -> sales, everything else -> customer service).
"""

import re

from workflows.models import RoutingRule
from workflows.models.tickets import Department, TicketCategory

DEFAULT_DEPARTMENTS: dict[str, str] = {
    TicketCategory.APP: Department.TECH_SUPPORT,
    TicketCategory.SALES: Department.SALES,
}
DEFAULT_DEPARTMENT = Department.CUSTOMER_SERVICE

_SEPARATORS = re.compile(r"[/,，、\n\r]+")


def keywords_split(text: str) -> list[str]:
    return [keyword.strip() for keyword in _SEPARATORS.split(text or "") if keyword.strip()]


def keyword_occurs(keyword: str, text: str) -> bool:
    if not keyword.isascii():
        return keyword in text
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, re.IGNORECASE) is not None


def rule_matches(rule: RoutingRule, *, category: str, text: str) -> bool:
    if rule.category and rule.category != category:
        return False
    keywords = keywords_split(rule.keywords)
    return not keywords or any(keyword_occurs(keyword, text) for keyword in keywords)


def ticket_route(*, category: str, subject: str, description: str = "") -> str:
    """The department for a ticket of this category and text (one query: the active rules)."""
    text = f"{subject}\n{description}"
    for rule in RoutingRule.objects.filter(is_active=True).order_by("order", "id"):
        if rule_matches(rule, category=category, text=text):
            return rule.department
    return DEFAULT_DEPARTMENTS.get(category, DEFAULT_DEPARTMENT)
