"""The beat schedules crm's tasks run on. They live in the database (django-celery-beat), so
supervisors can change or pause them in admin; `migrate` creates the ones missing and leaves
edited ones alone."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str = "0"
    hour: str = "2"
    day_of_week: str = "*"


# Nightly work, spread out in the small hours (Asia/Shanghai).
SCHEDULES: list[Schedule] = [
    Schedule(
        name="crm: recompute rule-based tags",
        task="crm.tasks.recompute_tags_task",
        minute="30",
        hour="3",
    ),
    Schedule(
        name="crm: find likely duplicate customers",
        task="crm.tasks.find_duplicates_task",
        minute="0",
        hour="4",
    ),
    Schedule(
        name="crm: delete access log rows past their retention",
        task="crm.tasks.delete_expired_access_logs_task",
        minute="15",
        hour="4",
    ),
]


def ensure_schedules(schedules: list[Schedule] = SCHEDULES) -> None:
    """Create the schedules that are missing; other apps pass their own list."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for schedule in schedules:
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
