"""Reading the unread free-text answers, a batch at a time, and reading them all again when
the rules change.

A batch is a constant number of queries whatever its size: the user dictionary's stamp, the
topic rules, the unread answers (keyset, through the partial index
`feedback_answer_to_score`), one UPDATE ... FROM (VALUES ...) for language, sentiment and
scored_at, one DELETE of the batch's topics and one INSERT of the new ones. The reading itself
(language, jieba, topics, sentiment) is Python.

On PostgreSQL a batch holds a transaction-level advisory lock, which `answers_unscore` takes
too: two scoring runs take turns instead of reading the same answers, and a rule change
committed while a batch reads with the old rules empties `scored_at` after that batch has
written it, so the answers are read again.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from workflows.feedback.reading.language import CHINESE, text_language
from workflows.feedback.reading.segmentation import dictionary_refresh
from workflows.feedback.reading.sentiment import sentiment_score
from workflows.feedback.reading.tokens import tokens_of
from workflows.feedback.reading.topics import TopicRules, topic_rules, topics_match
from workflows.models import AnswerTopic, FeedbackAnswer

_LOCK_ID = 7_000_008  # pg_advisory_xact_lock key shared by a scoring batch and the unscoring
BATCH_SIZE = 2000


@dataclass(frozen=True)
class Reading:
    language: str
    sentiment: float
    topic_ids: list[int]


def answer_read(text: str, rules: TopicRules) -> Reading:
    """One text's language, sentiment and topics (no query)."""
    language = text_language(text)
    tokens = tokens_of(text, language)
    words = tokens.words if language == CHINESE else None
    return Reading(
        language=language,
        sentiment=round(sentiment_score(text, language, words=words), 4),
        topic_ids=topics_match(tokens, rules),
    )


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])


def _record(readings: dict[int, Reading], *, now: datetime) -> None:
    """One UPDATE for the batch: FROM unnest(arrays) on PostgreSQL (three parameters, which
    psycopg passes without parsing thousands of placeholders), FROM (VALUES ...) elsewhere
    (SQLite >= 3.33)."""
    table = FeedbackAnswer._meta.db_table
    when = connection.ops.adapt_datetimefield_value(now)
    if connection.vendor == "postgresql":
        rows = "unnest(%s::bigint[], %s::text[], %s::double precision[]) AS v(id, lang, score)"
        params: list = [
            when,
            list(readings),
            [reading.language for reading in readings.values()],
            [reading.sentiment for reading in readings.values()],
        ]
        columns = "v.id", "v.lang", "v.score"
    else:
        rows = "(VALUES " + ", ".join(["(%s, %s, %s)"] * len(readings)) + ") AS v"
        params = [when]
        for pk, reading in readings.items():
            params += [pk, reading.language, reading.sentiment]
        columns = "CAST(v.column1 AS BIGINT)", "v.column2", "CAST(v.column3 AS REAL)"
    sql = f"""
        UPDATE {table} SET scored_at = %s, text_language = {columns[1]}, sentiment = {columns[2]}
        FROM {rows} WHERE {table}.id = {columns[0]}
    """  # noqa: S608 (identifiers from the model, values as parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _topics_replace(readings: dict[int, Reading]) -> None:
    """The batch's topics: one DELETE, one INSERT (a second run's rows already there are
    skipped)."""
    AnswerTopic.objects.filter(answer_id__in=list(readings)).delete()
    pairs = [(pk, topic_id) for pk, reading in readings.items() for topic_id in reading.topic_ids]
    if connection.vendor == "postgresql":
        table = AnswerTopic._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (answer_id, topic_id)"  # noqa: S608 (model's table)
                " SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                [[pk for pk, _ in pairs], [topic_id for _, topic_id in pairs]],
            )
        return
    AnswerTopic.objects.bulk_create(
        [AnswerTopic(answer_id=pk, topic_id=topic_id) for pk, topic_id in pairs],
        ignore_conflicts=True,
    )


def answers_score_batch(*, after_id: int = 0, batch_size: int = BATCH_SIZE) -> tuple[int, int]:
    """Read the next unread answers after `after_id`; returns (how many, the last id)."""
    with transaction.atomic():
        _lock()
        dictionary_refresh()
        rules = topic_rules()
        answers = list(
            FeedbackAnswer.objects.filter(scored_at__isnull=True, id__gt=after_id)
            .exclude(text="")
            .order_by("id")
            .values_list("id", "text")[:batch_size]
        )
        if not answers:
            return 0, after_id
        readings = {pk: answer_read(text, rules) for pk, text in answers}
        _record(readings, now=timezone.now())
        _topics_replace(readings)
    return len(answers), answers[-1][0]


def answers_score(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> int:
    """Read every unread free-text answer (or `max_batches` batches of them); returns how
    many were read. A second run finds nothing to read."""
    scored, after_id, batches = 0, 0, 0
    while max_batches is None or batches < max_batches:
        count, after_id = answers_score_batch(after_id=after_id, batch_size=batch_size)
        scored, batches = scored + count, batches + 1
        if count < batch_size:
            break
    return scored


def answers_unscore() -> int:
    """Mark every read answer unread (one UPDATE): the rules changed."""
    with transaction.atomic():
        _lock()
        return FeedbackAnswer.objects.filter(scored_at__isnull=False).update(scored_at=None)
