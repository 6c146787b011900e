from django.core.management.base import BaseCommand

from workflows.tickets.seeds import ticket_sla_defaults_seed, ticket_templates_seed


class Command(BaseCommand):
    help = (
        "Create what tickets need when missing: the SLA watcher's message templates, a default "
        "business calendar and SLA policies."
    )

    def handle(self, *args, **options) -> None:
        templates = ticket_templates_seed()
        calendars, policies = ticket_sla_defaults_seed()
        self.stdout.write(
            f"ticket templates created: {templates}, calendars: {calendars}, "
            f"SLA policies: {policies}"
        )
