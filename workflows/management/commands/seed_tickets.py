from django.core.management.base import BaseCommand, CommandParser

from workflows.tickets.seed_rules import tickets_seed_rules
from workflows.tickets.seeds import ticket_sla_defaults_seed, ticket_templates_seed


class Command(BaseCommand):
    help = (
        "Create what tickets need when missing: the SLA watcher's message templates, a default "
        "business calendar, SLA policies and routing rules; with --demo, agents and tickets."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true")

    def handle(self, *args, **options) -> None:
        templates = ticket_templates_seed()
        calendars, policies = ticket_sla_defaults_seed()
        rules = tickets_seed_rules()
        self.stdout.write(
            f"ticket templates created: {templates}, calendars: {calendars}, "
            f"SLA policies: {policies}, routing rules: {rules}"
        )
        if options["demo"]:
            from workflows.tickets.demo import tickets_demo_seed

            self.stdout.write(f"demo tickets: {tickets_demo_seed()}")
