"""A sequence's results for its admin page: two GROUP BY queries, whatever its size."""

from django.db.models import Count, Q

from workflows.models import CareSequence, Enrollment, Message


def sequence_results(sequence: CareSequence) -> dict:
    """Enrollments by state and exit reason; the steps' messages by state, one column per
    step (the step is the end of the message's occasion, see sequences/enqueue.py)."""
    enrollments = {
        (row["state"], row["exit_reason"]): row["n"]
        for row in Enrollment.objects.filter(sequence=sequence)
        .order_by()
        .values("state", "exit_reason")
        .annotate(n=Count("pk"))
    }
    orders = list(sequence.steps.order_by("order").values_list("order", flat=True))
    by_state = {}
    if orders:
        rows = (
            Message.objects.filter(occasion__startswith=f"sequence:{sequence.pk}:enrollment:")
            .order_by()
            .values("state")
            .annotate(
                **{
                    f"step_{order}": Count("pk", filter=Q(occasion__endswith=f":step:{order}"))
                    for order in orders
                }
            )
        )
        by_state = {row["state"]: row for row in rows}
    return {
        "enrolled": sum(enrollments.values()),
        "active": enrollments.get((Enrollment.State.ACTIVE, ""), 0),
        "completed": enrollments.get((Enrollment.State.COMPLETED, ""), 0),
        "exited": {reason: n for (state, reason), n in enrollments.items() if state == "exited"},
        "steps": [
            {
                "order": order,
                "by_state": {state: row[f"step_{order}"] for state, row in by_state.items()},
            }
            for order in orders
        ],
    }
