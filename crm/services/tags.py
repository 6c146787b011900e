"""Rule-based tags: their parameters checked, and their members recomputed in set-based SQL.

A rule tag's members are whatever its rule selects today. Recomputing a tag is a constant
number of statements whatever the number of customers: the rule's customers selected once
into a temporary table, one DELETE of the members that no longer match and one
INSERT ... SELECT of the new ones, in one transaction, with the tag row locked so that two
runs of the same tag take turns. Running it twice leaves the same rows.
Manual tags are never touched.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, CustomerTag, Interaction, Tag, Transaction

logger = logging.getLogger(__name__)

MAX_DAYS = 3650

# The defaults a rule takes for a parameter left out; a category has no default.
RULE_DEFAULTS: dict[str, dict[str, Any]] = {
    Tag.Rule.TOP_SPENDERS: {"share": 0.1, "days": 365},
    Tag.Rule.ACTIVE_WITHIN: {"days": 30},
    Tag.Rule.CATEGORY_SHARE: {"share": 0.3, "days": 365},
}
RULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    Tag.Rule.TOP_SPENDERS: ("share", "days"),
    Tag.Rule.ACTIVE_WITHIN: ("days",),
    Tag.Rule.CATEGORY_SHARE: ("category", "share", "days"),
}

# The three rule tags the product ships with (DESIGN.md, "Tags"). Names are data: supervisors
# rename, change or delete them in admin.
SEED_RULE_TAGS = (
    (
        "高价值客户",
        "近12个月消费（扣除退款）排名前10%的客户",
        Tag.Rule.TOP_SPENDERS,
        {"share": 0.1, "days": 365},
    ),
    ("近30天活跃", "近30天内有交易或互动的客户", Tag.Rule.ACTIVE_WITHIN, {"days": 30}),
    (
        "偏好母婴",
        "近12个月母婴类消费占其消费30%及以上的客户",
        Tag.Rule.CATEGORY_SHARE,
        {"category": Transaction.Category.MOTHER_AND_BABY, "share": 0.3, "days": 365},
    ),
)


@dataclass(frozen=True)
class RecomputeResult:
    tag_id: int
    added: int
    removed: int


def _parameter_error(message, code: str, **values: object) -> ValidationError:
    return ValidationError(
        {"parameters": ValidationError(message, code=code, params=values or None)}
    )


def _share_clean(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _parameter_error(
            _("The share must be a number above 0 and at most 1, e.g. 0.1 for 10%."),
            "invalid_share",
        )
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        share = Decimal("NaN")
    if not share.is_finite() or not Decimal(0) < share <= Decimal(1):
        raise _parameter_error(
            _("The share must be a number above 0 and at most 1, e.g. 0.1 for 10%."),
            "invalid_share",
        )
    return share


def _days_clean(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise _parameter_error(
            _("The number of days must be a whole number from 1 to %(max)s."),
            "invalid_days",
            max=MAX_DAYS,
        )
    return value


def _category_clean(value: object) -> str:
    if value not in Transaction.Category.values:
        raise _parameter_error(
            _("Unknown category %(value)s: use one of %(choices)s."),
            "invalid_category",
            value=repr(value),
            choices=", ".join(Transaction.Category.values),
        )
    return str(value)


def tag_rule_parameters_clean(*, kind: str, rule: str, parameters: object) -> dict[str, Any]:
    """The rule's parameters, checked and completed with the rule's defaults.

    Raises a `ValidationError` keyed by field ("rule" or "parameters") with a code.
    """
    if kind == Tag.Kind.MANUAL:
        if rule:
            raise ValidationError(
                {"rule": ValidationError(_("A manual tag has no rule."), code="manual_with_rule")}
            )
        if parameters:
            raise _parameter_error(
                _("A manual tag has no rule parameters: leave them empty."),
                "manual_with_parameters",
            )
        return {}
    if rule not in Tag.Rule.values:
        raise ValidationError(
            {"rule": ValidationError(_("Choose the rule of a rule-based tag."), code="no_rule")}
        )
    if parameters in (None, ""):
        parameters = {}
    if not isinstance(parameters, dict):
        raise _parameter_error(
            _('The parameters must be an object, e.g. {"days": 30}.'), "invalid_parameters"
        )
    allowed = RULE_PARAMETERS[rule]
    unknown = sorted(set(parameters) - set(allowed))
    if unknown:
        raise _parameter_error(
            _("Unknown parameters %(names)s: this rule takes %(allowed)s."),
            "unknown_parameters",
            names=", ".join(unknown),
            allowed=", ".join(allowed),
        )
    given = {**RULE_DEFAULTS[rule], **parameters}
    cleaned: dict[str, Any] = {}
    if "category" in allowed:
        if "category" not in given:
            raise _parameter_error(
                _("Name the category, e.g. %(example)s."),
                "missing_category",
                example=Transaction.Category.MOTHER_AND_BABY,
            )
        cleaned["category"] = _category_clean(given["category"])
    if "share" in allowed:
        # Kept as a JSON number; the SQL compares with the exact fraction of its decimal text.
        cleaned["share"] = float(_share_clean(given["share"]))
    cleaned["days"] = _days_clean(given["days"])
    return cleaned


def _ratio(share: float) -> tuple[int, int]:
    """0.1 -> (1, 10): the share as an exact fraction, so SQL compares integers, not floats."""
    numerator, denominator = Decimal(str(share)).as_integer_ratio()
    return numerator, denominator


def _money(column: str) -> str:
    """An amount as SQL sums it exactly: numeric on PostgreSQL, integer cents on SQLite."""
    if connection.vendor == "sqlite":
        # SQLite stores decimals as floating point; sums of cents as integers stay exact.
        return f"CAST(ROUND({column} * 100) AS INTEGER)"
    return column


def _db_datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "customer": quote(Customer._meta.db_table),
        "transaction": quote(Transaction._meta.db_table),
        "interaction": quote(Interaction._meta.db_table),
        "customer_tag": quote(CustomerTag._meta.db_table),
    }


# The SQL below is assembled only from table names of the models' Meta and fixed fragments;
# every value is a query parameter.
def _net_spend_cte(*, category: str | None) -> str:
    """CTE `spend`: each customer's net spend (purchases minus refunds) in the window.

    With a category, also `in_category`, the net spend in it; a refund counts against the
    category of the purchase it refunds.
    """
    t = _tables()
    amount = _money("t.amount")
    signed = f"CASE WHEN t.kind = %s THEN {amount} ELSE -{amount} END"
    in_category = ""
    if category is not None:
        original_category = (
            f"CASE WHEN t.kind = %s THEN (SELECT o.category FROM {t['transaction']} o "  # noqa: S608
            "WHERE o.id = t.refund_of_id) ELSE t.category END"
        )
        in_category = (
            f", SUM(CASE WHEN {original_category} = %s THEN {signed} ELSE 0 END) AS in_category"
        )
    return (
        f"spend AS (SELECT t.customer_id, SUM({signed}) AS total{in_category} "  # noqa: S608
        f"FROM {t['transaction']} t "
        "WHERE t.occurred_at >= %s AND t.occurred_at <= %s AND t.kind IN (%s, %s) "
        "AND t.currency = %s GROUP BY t.customer_id)"
    )


def _net_spend_params(*, category: str | None, since: datetime, now: datetime) -> list:
    purchase, refund = Transaction.Kind.PURCHASE, Transaction.Kind.REFUND
    params: list = [purchase]
    if category is not None:
        params += [refund, category, purchase]
    params += [
        _db_datetime(since),
        _db_datetime(now),
        purchase,
        refund,
        settings.CRM_DEFAULT_CURRENCY,
    ]
    return params


def _matching_ctes(tag: Tag, *, now: datetime) -> tuple[str, list]:
    """The CTEs of a rule, ending in `matching (customer_id)`: the customers it selects now."""
    parameters = tag_rule_parameters_clean(kind=tag.kind, rule=tag.rule, parameters=tag.parameters)
    since = now - timedelta(days=parameters["days"])
    t = _tables()
    merged = Customer.Status.MERGED
    if tag.rule == Tag.Rule.TOP_SPENDERS:
        numerator, denominator = _ratio(parameters["share"])
        # RANK, not ROW_NUMBER: customers tied at the boundary are all in or all out.
        ranked = (
            "ranked AS (SELECT s.customer_id, RANK() OVER (ORDER BY s.total DESC) AS position, "  # noqa: S608
            f"COUNT(*) OVER () AS population FROM spend s JOIN {t['customer']} c "
            "ON c.id = s.customer_id WHERE s.total > 0 AND c.status <> %s)"
        )
        matching = (
            "matching AS (SELECT customer_id FROM ranked WHERE position * %s <= %s * population)"
        )
        sql = f"{_net_spend_cte(category=None)}, {ranked}, {matching}"
        params = [
            *_net_spend_params(category=None, since=since, now=now),
            merged,
            denominator,
            numerator,
        ]
        return sql, params
    if tag.rule == Tag.Rule.CATEGORY_SHARE:
        numerator, denominator = _ratio(parameters["share"])
        category = parameters["category"]
        matching = (
            "matching AS (SELECT s.customer_id FROM spend s "  # noqa: S608
            f"JOIN {t['customer']} c ON c.id = s.customer_id "
            "WHERE s.total > 0 AND c.status <> %s AND s.in_category * %s >= %s * s.total)"
        )
        sql = f"{_net_spend_cte(category=category)}, {matching}"
        params = [
            *_net_spend_params(category=category, since=since, now=now),
            merged,
            denominator,
            numerator,
        ]
        return sql, params
    # ACTIVE_WITHIN: each customer is one probe of the (customer, occurred_at) index per table.
    sql = (
        f"matching AS (SELECT c.id AS customer_id FROM {t['customer']} c "  # noqa: S608
        "WHERE c.status <> %s AND ("
        f"EXISTS (SELECT 1 FROM {t['transaction']} t WHERE t.customer_id = c.id "
        "AND t.occurred_at >= %s AND t.occurred_at <= %s) OR "
        f"EXISTS (SELECT 1 FROM {t['interaction']} i WHERE i.customer_id = c.id "
        "AND i.occurred_at >= %s AND i.occurred_at <= %s)))"
    )
    window = [_db_datetime(since), _db_datetime(now)]
    return sql, [merged, *window, *window]


# Session-local scratch table of one recomputation, dropped before its transaction ends.
MATCHING_TABLE = "crm_tag_recompute_matching"


def _tag_members_replace(tag: Tag, *, now: datetime) -> RecomputeResult:
    """The rule's customers are selected once, into a temporary table; the members that left
    are deleted and the new ones inserted from it. Four statements, whatever the numbers."""
    ctes, params = _matching_ctes(tag, now=now)
    customer_tag = _tables()["customer_tag"]
    matching = connection.ops.quote_name(MATCHING_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {matching} AS "  # noqa: S608
            f"WITH {ctes} SELECT customer_id FROM matching",
            params,
        )
        cursor.execute(
            f"DELETE FROM {customer_tag} WHERE tag_id = %s AND NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {matching} m WHERE m.customer_id = {customer_tag}.customer_id)",
            [tag.pk],
        )
        removed = cursor.rowcount
        # ON CONFLICT: a member added by hand meanwhile is not an error. (The WHERE also keeps
        # SQLite from reading ON CONFLICT as part of a join.)
        cursor.execute(
            f"INSERT INTO {customer_tag} (customer_id, tag_id, tagged_at) "  # noqa: S608
            f"SELECT m.customer_id, %s, %s FROM {matching} m WHERE NOT EXISTS "
            f"(SELECT 1 FROM {customer_tag} ct WHERE ct.tag_id = %s "
            "AND ct.customer_id = m.customer_id) "
            "ON CONFLICT (customer_id, tag_id) DO NOTHING",
            [tag.pk, _db_datetime(now), tag.pk],
        )
        added = cursor.rowcount
        cursor.execute(f"DROP TABLE {matching}")
    return RecomputeResult(tag_id=tag.pk, added=added, removed=removed)


@transaction.atomic
def tag_recompute(*, tag_id: int) -> RecomputeResult:
    """Replace one rule tag's members by the customers its rule selects now.

    A constant number of statements whatever the number of customers: lock the tag, select the
    rule's customers once, delete the members that no longer match, insert the new ones,
    stamp `recomputed_at`.
    """
    tag = Tag.objects.select_for_update().get(pk=tag_id)
    if tag.kind != Tag.Kind.RULE:
        raise ValidationError(
            _("%(tag)s is a manual tag: only rule-based tags are recomputed."),
            code="manual_tag",
            params={"tag": tag.name},
        )
    now = timezone.now()
    result = _tag_members_replace(tag, now=now)
    tag.recomputed_at = now
    tag.save(update_fields=["recomputed_at"])
    logger.info("tag %s recomputed: %s added, %s removed", tag.pk, result.added, result.removed)
    return result


def tags_recompute(*, tag_id: int | None = None) -> list[RecomputeResult]:
    """Recompute one rule tag, or every rule tag, each in its own transaction.

    A tag whose saved parameters are no longer valid is skipped and logged, so one broken
    tag does not stop the nightly run of the others; asked for by id, it raises.
    """
    if tag_id is not None:
        return [tag_recompute(tag_id=tag_id)]
    results = []
    for pk in Tag.objects.filter(kind=Tag.Kind.RULE).order_by("pk").values_list("pk", flat=True):
        try:
            results.append(tag_recompute(tag_id=pk))
        except ValidationError:
            logger.exception("tag %s not recomputed: its rule parameters are invalid", pk)
    return results


def tags_ensure_seed_rules(**_: object) -> None:
    """On a database without any rule-based tag, create the product's three.

    Once any rule tag exists nothing is created, so a seed tag that a supervisor renamed or
    deleted does not come back at the next `migrate`.
    """
    if Tag.objects.filter(kind=Tag.Kind.RULE).exists():
        return
    for name, description, rule, parameters in SEED_RULE_TAGS:
        Tag.objects.get_or_create(
            name=name,
            defaults={
                "kind": Tag.Kind.RULE,
                "description": description,
                "rule": rule,
                "parameters": parameters,
            },
        )
