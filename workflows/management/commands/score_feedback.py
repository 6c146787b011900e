from django.core.management.base import BaseCommand

from workflows.feedback.reading.score import BATCH_SIZE, answers_score


class Command(BaseCommand):
    help = "Read the unread free-text feedback answers now: language, topics and sentiment."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args, batch_size: int, **options) -> None:
        scored = answers_score(batch_size=batch_size)
        self.stdout.write(f"answers read: {scored}")
