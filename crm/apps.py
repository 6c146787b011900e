from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from crm import panels
        from crm.privacy.crm_data import register_crm_privacy_handler
        from crm.privacy.panel import register_privacy_panel

        panels.register_builtin_panels()
        # PIPL: what crm holds about a customer (exports, erasures) and the privacy panel.
        register_crm_privacy_handler()
        register_privacy_panel()
        post_migrate.connect(_sync_role_groups, sender=self)
        post_migrate.connect(_ensure_schedules, sender=self)
        post_migrate.connect(_ensure_seed_rule_tags, sender=self)


def _sync_role_groups(sender, **kwargs) -> None:
    from crm.roles import sync_role_groups

    sync_role_groups()


def _ensure_schedules(sender, **kwargs) -> None:
    from crm.schedules import ensure_schedules

    ensure_schedules()


def _ensure_seed_rule_tags(sender, **kwargs) -> None:
    from crm.services.tags import tags_ensure_seed_rules

    tags_ensure_seed_rules()
