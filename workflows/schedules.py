"""The beat schedules workflows' tasks run on, created on `migrate` (crm/schedules.py)."""

from crm.schedules import Schedule

SCHEDULES: list[Schedule] = [
    Schedule(
        name="workflows: dispatch the outbox's due messages",
        task="workflows.tasks.outbox_dispatch_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: post the due webhook deliveries",
        task="workflows.tasks.webhooks_deliver_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: enrol customers in care sequences",
        task="workflows.tasks.sequences_enrol_task",
        minute="5",
        hour="*",
    ),
    Schedule(
        name="workflows: advance the due care sequence steps",
        task="workflows.tasks.sequences_advance_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: launch the due campaigns",
        task="workflows.tasks.campaigns_launch_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: record the campaigns' conversions",
        task="workflows.tasks.campaigns_conversions_task",
        minute="17",
        hour="*",
    ),
    Schedule(
        name="workflows: send the due feedback form sendings",
        task="workflows.tasks.feedback_sendings_send_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: remind unanswered feedback invitations once",
        task="workflows.tasks.feedback_reminders_task",
        minute="23",
        hour="*",
    ),
    Schedule(
        name="workflows: read the feedback answers' free text",
        task="workflows.tasks.feedback_score_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: watch the tickets' SLA timers",
        task="workflows.tasks.tickets_watch_task",
        minute="*",
        hour="*",
    ),
    Schedule(
        name="workflows: offer idle tickets to the next least-loaded agent",
        task="workflows.tasks.tickets_offer_idle_task",
        minute="*/5",
        hour="*",
    ),
    Schedule(
        name="workflows: compute the supervisors' KPIs for the day",
        task="workflows.tasks.compute_kpis_task",
        minute="30",
        hour="5",
    ),
]
