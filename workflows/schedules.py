"""The beat schedules workflows' tasks run on, created on `migrate` (crm/schedules.py)."""

from crm.schedules import Schedule

SCHEDULES: list[Schedule] = [
    Schedule(
        name="workflows: post the due webhook deliveries",
        task="workflows.tasks.webhooks_deliver_task",
        minute="*",
        hour="*",
    ),
]
