"""Scoring the free-text answers: set-based batches, idempotent, a constant number of queries,
and read again when the topic rules or the user dictionary change."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from tests.workflows.feedback_factories import published_form
from workflows.apps import _ensure_schedules
from workflows.feedback.reading.score import answers_score, answers_unscore
from workflows.feedback.reading.segmentation import segmentation_forget
from workflows.models import (
    AnswerTopic,
    DictionaryWord,
    FeedbackAnswer,
    FeedbackResponse,
    FeedbackTopic,
)
from workflows.models.feedback import QuestionKind
from workflows.tasks import feedback_score_task

pytestmark = pytest.mark.django_db
NPS, TEXT = QuestionKind.NPS, QuestionKind.LONG_TEXT
TEXTS = [
    "快递太慢了，客服态度也不好",
    "手机银行很好用，推荐",
    "The staff were rude and the app crashed twice.",
    "Quick delivery, thank you!",
]


@pytest.fixture(autouse=True)
def _fresh_dictionary():
    segmentation_forget()
    yield
    segmentation_forget()


@pytest.fixture
def topics(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # as if committed
        return {
            name: FeedbackTopic.objects.create(name_en=name, name_zh_hans=name, keywords=keywords)
            for name, keywords in [
                ("delivery", "物流/快递/delivery"),
                ("service", "客服/态度/staff/rude"),
                ("app", "APP/手机银行/闪退/crash"),
            ]
        }


def text_answers(texts: list[str]) -> list[FeedbackAnswer]:
    """One response per text, with an NPS answer (never read) and the text."""
    version = published_form()
    responses = FeedbackResponse.objects.bulk_create(
        FeedbackResponse(form=version.form, version=version, nps=7) for _ in texts
    )
    answers = []
    for response, text in zip(responses, texts, strict=True):
        answers.append(FeedbackAnswer(response=response, question_id="q1", kind="nps", score=7))
        answers.append(
            FeedbackAnswer(
                response=response, question_id="q5", kind=QuestionKind.LONG_TEXT, text=text
            )
        )
    return FeedbackAnswer.objects.bulk_create(answers)


def _state() -> list[tuple]:
    answers = FeedbackAnswer.objects.order_by("id")
    return [
        (answer.pk, answer.text_language, answer.sentiment, answer.scored_at is not None)
        for answer in answers
    ] + sorted(AnswerTopic.objects.values_list("answer_id", "topic_id"))


def _topic_names(answer: FeedbackAnswer) -> set[str]:
    return set(answer.topics.values_list("name_en", flat=True))


def test_scoring_reads_language_sentiment_and_topics_of_text_answers_only(topics):
    text_answers(TEXTS)

    assert answers_score() == 4

    answers = {a.text: a for a in FeedbackAnswer.objects.exclude(text="")}
    complaint = answers["快递太慢了，客服态度也不好"]
    assert complaint.text_language == "zh-hans"
    assert complaint.sentiment < 0
    assert _topic_names(complaint) == {"delivery", "service"}
    praise = answers["手机银行很好用，推荐"]
    assert praise.sentiment > 0
    assert _topic_names(praise) == {"app"}
    english = answers["The staff were rude and the app crashed twice."]
    assert (english.text_language, english.sentiment < 0) == ("en", True)
    assert _topic_names(english) == {"service", "app"}
    assert _topic_names(answers["Quick delivery, thank you!"]) == {"delivery"}
    nps = FeedbackAnswer.objects.filter(text="")
    assert not nps.filter(scored_at__isnull=False).exists()
    assert not nps.filter(sentiment__isnull=False).exists()


def test_scoring_twice_changes_nothing(topics):
    text_answers(TEXTS)
    answers_score()
    before = _state()

    assert answers_score() == 0

    assert _state() == before


def test_reading_again_writes_the_same_readings(topics):
    text_answers(TEXTS)
    answers_score()
    before = [row for row in _state() if len(row) == 2]

    answers_unscore()
    assert answers_score() == 4

    assert [row for row in _state() if len(row) == 2] == before


@pytest.mark.parametrize("count", [10, 100])
def test_a_batch_takes_the_same_queries_whatever_its_size(topics, count, django_assert_num_queries):
    text_answers([TEXTS[i % len(TEXTS)] for i in range(count)])
    answers_score()  # warms the process: jieba's dictionary and the models
    answers_unscore()
    # Savepoint, (PostgreSQL: advisory lock), dictionary stamp, topic rules, the unread
    # answers, UPDATE ... FROM (VALUES ...), DELETE of their topics, INSERT of the new ones,
    # release.
    expected = 9 if connection.vendor == "postgresql" else 8
    with django_assert_num_queries(expected):
        assert answers_score(batch_size=500) == count


def test_batches_go_on_until_nothing_is_left(topics):
    text_answers(TEXTS * 3)

    assert answers_score(batch_size=5) == 12

    assert not FeedbackAnswer.objects.filter(scored_at__isnull=True).exclude(text="").exists()
    assert answers_score(batch_size=5, max_batches=1) == 0


def test_max_batches_bounds_a_run(topics):
    text_answers(TEXTS * 3)

    assert answers_score(batch_size=5, max_batches=1) == 5
    assert answers_score(batch_size=5) == 7


def test_changing_a_topic_marks_answers_unread_and_the_next_run_reads_them_again(
    topics, django_capture_on_commit_callbacks
):
    text_answers(TEXTS)
    answers_score()
    with django_capture_on_commit_callbacks(execute=True):
        fees = FeedbackTopic.objects.create(name_en="fees", name_zh_hans="费用", keywords="手续费")
    complaint = FeedbackAnswer.objects.get(text=TEXTS[0])
    assert "waiting" not in _topic_names(complaint)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fees.name_en, fees.keywords = "waiting", "排队/慢/wait"
        fees.save()
    assert len(callbacks) == 1
    assert not FeedbackAnswer.objects.filter(scored_at__isnull=False).exists()

    assert answers_score() == 4
    assert _topic_names(complaint) == {"delivery", "service", "waiting"}


def test_marking_unread_is_one_update(topics, django_assert_num_queries):
    text_answers(TEXTS)
    answers_score()

    # Savepoint, (PostgreSQL: advisory lock), the UPDATE, release.
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 3):
        assert answers_unscore() == 4


def test_several_rule_changes_in_one_transaction_mark_answers_unread_once(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("seed_feedback")

    assert len(callbacks) == 1


def test_deleting_a_dictionary_word_marks_answers_unread(
    topics, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        word = DictionaryWord.objects.create(word="手机银行")
    text_answers(TEXTS)
    answers_score()

    with django_capture_on_commit_callbacks(execute=True):
        word.delete()

    assert FeedbackAnswer.objects.filter(scored_at__isnull=True).exclude(text="").count() == 4


def test_a_deactivated_topic_is_dropped_from_the_answers_on_the_next_run(
    topics, django_capture_on_commit_callbacks
):
    text_answers(TEXTS)
    answers_score()
    assert AnswerTopic.objects.filter(topic=topics["app"]).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        topics["app"].is_active = False
        topics["app"].save()
    answers_score()

    assert not AnswerTopic.objects.filter(topic=topics["app"]).exists()


def test_the_task_reads_every_minute(topics):
    text_answers(TEXTS)
    _ensure_schedules(None)

    assert feedback_score_task.apply().get() == {"scored": 4}
    task = PeriodicTask.objects.get(task="workflows.tasks.feedback_score_task")
    assert (task.crontab.minute, task.crontab.hour) == ("*", "*")


def test_the_commands_seed_rules_once_and_score(capsys):
    call_command("seed_feedback")
    call_command("seed_feedback")
    assert FeedbackTopic.objects.count() == 8
    assert DictionaryWord.objects.count() == 7
    assert "created: 0" in capsys.readouterr().out

    text_answers(["APP登录老是闪退，积分兑换也找不到入口"])
    call_command("score_feedback")

    answer = FeedbackAnswer.objects.exclude(text="").get()
    assert _topic_names(answer) == {"App", "Points and rewards"}
    assert answer.sentiment < 0
    assert "answers read: 1" in capsys.readouterr().out


TOPIC_ADD = reverse("admin:workflows_feedbacktopic_add")
WORD_ADD = reverse("admin:workflows_dictionaryword_add")


def test_a_supervisor_adds_a_topic_and_is_told_answers_are_read_again(client, supervisor):
    client.force_login(supervisor)

    response = client.post(
        TOPIC_ADD,
        {"name_en": "Fees", "name_zh_hans": "费用", "keywords": "手续费/fee", "is_active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    assert FeedbackTopic.objects.get().keywords == "手续费/fee"
    assert "read again with the new rules within a minute" in response.content.decode()


def test_a_topic_without_keywords_is_refused(client, supervisor):
    client.force_login(supervisor)

    response = client.post(
        TOPIC_ADD, {"name_en": "Fees", "name_zh_hans": "费用", "keywords": " / ，"}
    )

    assert response.status_code == 200
    assert "Give at least one keyword" in response.content.decode()
    assert not FeedbackTopic.objects.exists()


def test_a_dictionary_word_with_a_space_is_refused(client, supervisor):
    client.force_login(supervisor)

    response = client.post(WORD_ADD, {"word": "手机 银行", "frequency": ""})

    assert response.status_code == 200
    assert "without spaces" in response.content.decode()
    assert not DictionaryWord.objects.exists()


def test_a_supervisor_adds_a_dictionary_word(client, supervisor):
    client.force_login(supervisor)

    response = client.post(WORD_ADD, {"word": "金穗宝", "frequency": "2000"})

    assert response.status_code == 302
    assert DictionaryWord.objects.get().frequency == 2000


def test_an_rm_cannot_change_the_reading_rules(client, rm):
    client.force_login(rm)

    assert client.get(TOPIC_ADD).status_code == 403
    assert client.get(WORD_ADD).status_code == 403


def test_the_topic_list_counts_answers_without_a_query_per_topic(client, supervisor, topics):
    text_answers(TEXTS)
    answers_score()
    client.force_login(supervisor)
    url = reverse("admin:workflows_feedbacktopic_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as three_topics:
        client.get(url)
    FeedbackTopic.objects.create(name_en="fees", name_zh_hans="费用", keywords="手续费")
    FeedbackTopic.objects.create(name_en="branch", name_zh_hans="网点", keywords="网点")

    with CaptureQueriesContext(connection) as five_topics:
        response = client.get(url)

    assert len(five_topics) == len(three_topics)
    rows = {topic.name_en: topic.answer_count for topic in response.context["cl"].result_list}
    assert rows == {"app": 2, "delivery": 2, "service": 2, "fees": 0, "branch": 0}
