"""Saving or deleting a topic or a dictionary word (admin or code) marks every answer unread
once the change is committed; the every-minute task reads them again with the new rules."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from workflows.feedback.reading.score import answers_unscore
from workflows.models import DictionaryWord, FeedbackTopic


def on_rules_changed(sender: Any, **kwargs: Any) -> None:
    connection = transaction.get_connection()
    # Once per transaction: seeding eight topics must not empty scored_at eight times.
    pending = connection.run_on_commit if connection.in_atomic_block else []
    if not any(entry[1] is answers_unscore for entry in pending):
        transaction.on_commit(answers_unscore)


def connect() -> None:
    for model in (FeedbackTopic, DictionaryWord):
        uid = f"feedback-reading-{model._meta.model_name}"
        post_save.connect(on_rules_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(on_rules_changed, sender=model, dispatch_uid=f"{uid}-delete")
