from django.core.management.base import BaseCommand, CommandParser

from workflows.feedback.demo import feedback_demo_read, feedback_demo_seed
from workflows.feedback.reading.seeds import feedback_rules_seed
from workflows.feedback.seeds import feedback_templates_seed


class Command(BaseCommand):
    help = (
        "Create what feedback needs (message templates, example topic rules and dictionary "
        "words) when missing; with --demo, also demo forms answered by demo customers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--demo", action="store_true")
        parser.add_argument("--responses", type=int, default=400)

    def handle(self, *args, **options) -> None:
        templates = feedback_templates_seed()
        topics, words = feedback_rules_seed()
        self.stdout.write(
            f"feedback templates created: {templates}, topics: {topics}, dictionary words: {words}"
        )
        if options["demo"]:
            responses = feedback_demo_seed(responses=options["responses"])
            read = feedback_demo_read()
            self.stdout.write(f"demo responses: {responses}, free-text answers read: {read}")
