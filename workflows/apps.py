from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_schedules, sender=self)


def _ensure_schedules(sender, **kwargs) -> None:
    from crm.schedules import ensure_schedules
    from workflows.schedules import SCHEDULES

    ensure_schedules(SCHEDULES)
