from django.core.management.base import BaseCommand

from workflows.feedback.seeds_sending import sending_templates_seed


class Command(BaseCommand):
    help = "Create the message templates of feedback links and reminders (SMS, e-mail)."

    def handle(self, *args, **options) -> None:
        created = sending_templates_seed()
        self.stdout.write(f"feedback message templates created: {created}")
