"""The beat schedules of workflows, created on `migrate` like crm's and loyalty's."""

from crm.schedules import Schedule

SCHEDULES: list[Schedule] = [
    Schedule(
        name="workflows: dispatch the outbox's due messages",
        task="workflows.tasks.outbox_dispatch_task",
        minute="*",
        hour="*",
    ),
]
