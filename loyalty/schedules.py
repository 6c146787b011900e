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
]


def ensure_schedules(**_: object) -> None:
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for schedule in SCHEDULES:
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=schedule.minute,
            hour=schedule.hour,
            day_of_week=schedule.day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.create(name=schedule.name, task=schedule.task, crontab=crontab)
