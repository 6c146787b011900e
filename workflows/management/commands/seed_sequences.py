from django.core.management.base import BaseCommand

from workflows.sequences.seeds import seed_sequences


class Command(BaseCommand):
    help = "Create the example care sequence (mother and baby) and its message templates."

    def handle(self, *args, **options) -> None:
        sequence = seed_sequences()
        self.stdout.write(f"care sequence {sequence.pk}: {sequence.name}")
