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
    # Half an hour after the tier evaluation starts (01:00), not with it: the two are
    # independent (no tier metric reads points) and both are heavy, so they are staggered.
    # Early in the day the points lapse on, so the day's balances, the liability report and
    # the expiring-soon segment read in the morning no longer count them.
    Schedule(
        name="loyalty: expire the points whose day has come",
        task="loyalty.tasks.points_expire_task",
        minute="30",
        hour="1",
    ),
    # After the tier evaluation and the expiry (heavy both), before the working day: the
    # customer's page shows values fitted on every purchase up to yesterday.
    Schedule(
        name="loyalty: refit customer lifetime value and rescore every customer",
        task="loyalty.tasks.refresh_customer_values_task",
        minute="30",
        hour="2",
    ),
]
