from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = _("Loyalty")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # A customer merge knows what to do with two memberships of the same program.
        import loyalty.merges  # noqa: F401

        # The metrics register themselves on import; the Condition's choices read the registry.
        import loyalty.metrics  # noqa: F401
        from crm.signals import interactions_stored, transactions_stored
        from loyalty.panels import register_panels
        from loyalty.segments import register_customer_filters
        from loyalty.services.earning import on_interactions_stored, on_transactions_stored

        register_panels()
        # PIPL: loyalty's part of a customer's data export and erasure.
        from loyalty.privacy import register_loyalty_privacy_handler

        register_loyalty_privacy_handler()
        # Points are earned in the transaction that stores what earns them.
        transactions_stored.connect(on_transactions_stored, dispatch_uid="loyalty_earn")
        interactions_stored.connect(on_interactions_stored, dispatch_uid="loyalty_review_bonus")
        # Points expiring soon: a filter of crm's customer list and saved segments.
        register_customer_filters()
        post_migrate.connect(_sync_role_permissions, sender=self)
        post_migrate.connect(_ensure_schedules, sender=self)
        post_migrate.connect(_ensure_segments, sender=self)


def _sync_role_permissions(sender, **kwargs) -> None:
    from loyalty.roles import sync_loyalty_permissions

    sync_loyalty_permissions()


def _ensure_schedules(sender, **kwargs) -> None:
    from crm.schedules import ensure_schedules
    from loyalty.schedules import SCHEDULES

    ensure_schedules(SCHEDULES)


def _ensure_segments(sender, **kwargs) -> None:
    from loyalty.segments import expiring_soon_segment_ensure

    expiring_soon_segment_ensure()
