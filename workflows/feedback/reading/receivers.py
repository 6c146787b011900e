"""Saving or deleting a topic or a dictionary word (admin or code) marks every answer unread
once the change is committed; the every-minute task reads them again with the new rules."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from workflows.feedback.reading.score import answers_unscore
from workflows.models import DictionaryWord, FeedbackTopic


def on_rules_changed(sender: Any, **kwargs: Any) -> None:
    """Once per transaction: seeding eight topics or deleting fifty words in admin must not
    run the UPDATE fifty times. The callback still queued (Django drops it on rollback) is
    the one to wait for."""
    connection = transaction.get_connection()
    queued = getattr(connection, "_feedback_unscore_queued", None)
    if queued is not None and any(entry[1] is queued for entry in connection.run_on_commit):
        return

    def unscore() -> None:
        connection._feedback_unscore_queued = None
        answers_unscore()

    connection._feedback_unscore_queued = unscore
    transaction.on_commit(unscore)


def connect() -> None:
    for model in (FeedbackTopic, DictionaryWord):
        uid = f"feedback-reading-{model._meta.model_name}"
        post_save.connect(on_rules_changed, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(on_rules_changed, sender=model, dispatch_uid=f"{uid}-delete")
