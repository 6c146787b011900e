"""loyalty's signals -> webhook events, connected in WorkflowsConfig.ready().

Each receiver first asks the (cached) subscriptions, so nothing is read when nobody listens;
otherwise one query reads what was written and one bulk INSERT writes the deliveries.
"""

from typing import Any

from django.db.models import F, QuerySet

from workflows.models.webhooks import EventType
from workflows.webhooks.emit import anyone_subscribed, webhook_event_emit

_POINTS_EVENTS = {"earn": EventType.POINTS_EARNED, "redeem": EventType.POINTS_REDEEMED}


def on_points_posted(sender: Any, *, entries: QuerySet, **kwargs: Any) -> None:
    wanted = {kind for kind, event in _POINTS_EVENTS.items() if anyone_subscribed(event)}
    if not wanted:
        return
    rows = entries.filter(kind__in=wanted).values(
        "pk",
        "kind",
        "points",
        "occurred_on",
        "expires_on",
        program_id=F("account__program_id"),
        customer_id=F("account__customer_id"),
    )
    by_event: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_event.setdefault(_POINTS_EVENTS[row["kind"]], []).append(
            {
                "entry_id": row["pk"],
                "customer_id": row["customer_id"],
                "program_id": row["program_id"],
                "points": abs(row["points"]),
                "occurred_on": row["occurred_on"].isoformat(),
                "expires_on": row["expires_on"].isoformat() if row["expires_on"] else None,
            }
        )
    for event_type, payloads in by_event.items():
        webhook_event_emit(event_type=event_type, payloads=payloads)


def on_membership_changes_recorded(sender: Any, *, changes: QuerySet, **kwargs: Any) -> None:
    if not anyone_subscribed(EventType.TIER_CHANGED):
        return
    rows = changes.values(
        "pk",
        "customer_id",
        "program_id",
        "kind",
        "evaluated_on",
        "from_tier_id",
        "to_tier_id",
        from_tier_name=F("from_tier__name"),
        to_tier_name=F("to_tier__name"),
    ).iterator(chunk_size=2000)
    webhook_event_emit(
        event_type=EventType.TIER_CHANGED,
        payloads=(
            {
                "change_id": row["pk"],
                "customer_id": row["customer_id"],
                "program_id": row["program_id"],
                "kind": row["kind"],
                "evaluated_on": row["evaluated_on"].isoformat(),
                "from_tier": {"id": row["from_tier_id"], "name": row["from_tier_name"]},
                "to_tier": {"id": row["to_tier_id"], "name": row["to_tier_name"]},
            }
            for row in rows
        ),
    )


def connect() -> None:
    from loyalty.signals import membership_changes_recorded, points_posted

    points_posted.connect(on_points_posted, dispatch_uid="workflows_webhooks_points")
    membership_changes_recorded.connect(
        on_membership_changes_recorded, dispatch_uid="workflows_webhooks_tiers"
    )
