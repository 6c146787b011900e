from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # Feedback messages get their personal links from the outbox's context providers.
        from workflows.feedback import invitations  # noqa: F401
        from workflows.feedback.reading import receivers as reading_receivers
        from workflows.panels import register_panels
        from workflows.sequences import receivers as sequence_receivers
        from workflows.webhooks import emit, receivers  # noqa: F401  (emit: cache signals)

        register_panels()
        # PIPL: workflows' part of a customer's data export and erasure.
        from workflows.privacy import register_workflows_privacy_handler

        register_workflows_privacy_handler()
        # Tier changes and points posted by loyalty become webhook deliveries.
        receivers.connect()
        # Purchases, transfers and tier changes enrol customers in care sequences at once.
        sequence_receivers.connect()
        # A changed topic or dictionary word: every free-text answer is read again.
        reading_receivers.connect()
        # A dissatisfied answer to a ticket's survey opens a follow-up for the supervisor.
        from workflows.tickets import services as ticket_services

        ticket_services.connect()
        post_migrate.connect(_sync_role_permissions, sender=self)
        post_migrate.connect(_ensure_schedules, sender=self)
        # Feedback: the customer page's panel and the `experience_officer` customer filter.
        from workflows.feedback.officers import register_customer_filters
        from workflows.panels import register_feedback_panel

        register_feedback_panel()
        register_customer_filters()
        # Tickets: the SLA watcher's staff messages get their ticket at dispatch.
        from workflows.tickets import staff_messages  # noqa: F401

        # Tickets: the customer page's panel of their latest tickets.
        from workflows.tickets.panel import register_tickets_panel

        register_tickets_panel()


def _sync_role_permissions(sender, **kwargs) -> None:
    from workflows.roles import sync_workflows_permissions

    sync_workflows_permissions()


def _ensure_schedules(sender, **kwargs) -> None:
    from crm.schedules import ensure_schedules
    from workflows.schedules import SCHEDULES

    ensure_schedules(SCHEDULES)
