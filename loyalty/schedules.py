"""The beat schedules loyalty's tasks run on, created on `migrate` like crm's (crm/schedules.py):
they live in the database, so supervisors can change or pause them in admin; edited ones are
left alone."""

from crm.schedules import Schedule

SCHEDULES: list[Schedule] = [
    Schedule(
        name="loyalty: evaluate the tiers of every active program",
        task="loyalty.tasks.evaluate_all_programs_task",
        minute="0",
        hour="1",
    ),
    Schedule(
        name="loyalty: end the grace periods that have run out",
        task="loyalty.tasks.end_grace_periods_task",
        minute="30",
        hour="0",
    ),
]
