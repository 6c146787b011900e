from django.core.management.base import BaseCommand

from workflows.feedback.reading.seeds import feedback_rules_seed


class Command(BaseCommand):
    help = "Create the example feedback topics and user dictionary words (idempotent)."

    def handle(self, *args, **options) -> None:
        topics, words = feedback_rules_seed()
        self.stdout.write(f"feedback topics created: {topics}, dictionary words created: {words}")
