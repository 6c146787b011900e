from django.core.management.base import BaseCommand

from workflows.feedback.seeds import feedback_templates_seed


class Command(BaseCommand):
    help = "Create the feedback message templates (suggestion adopted) when missing (idempotent)."

    def handle(self, *args, **options) -> None:
        created = feedback_templates_seed()
        self.stdout.write(f"feedback templates created={created}")
