"""The feedback dashboard's figures, for supervisors: NPS per week, CSAT per service step, top
topics, the steps with the most negative answers and the latest negative comments.

Every figure is one aggregate query (GROUP BY in the database, never a loop over rows), over
the responses submitted in [start, end) that the user may see (`response_visibility_q`),
optionally of one form. The range is served by the `submitted_at` index of FeedbackResponse
(and (form, submitted_at) with a form); answers join their response.

Scores (DESIGN.md, the issue):
- NPS: the share of promoters (9-10) minus the share of detractors (0-6) among the NPS answers,
  as a percentage from -100 to 100; no answers, no NPS (None). `nps()` is the definition in
  Python; `NPS_SQL` says the same in SQL, and a test holds them to agree.
- CSAT: the average score (1-5) and the share of satisfied answers (4-5).

A negative answer is defined once, here (`NEGATIVE_ANSWER_Q`, from DETRACTOR_MAX and
CSAT_NEGATIVE_MAX): an answer whose text reads negative (sentiment < 0), an NPS answer of a
detractor (0-6), or a CSAT answer of 1 or 2. Choice answers are never negative. A negative
comment is a free-text answer that is negative, which for text means a sentiment below 0.
The per-step counts take the same three parts from the same constants, the scores from the
response (which holds its NPS and CSAT answers' scores) so that only text answers are joined.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, NullIf, TruncWeek
from django.utils import timezone

from config.db import read_replica
from crm.selectors import User
from workflows.feedback.scope import response_visibility_q
from workflows.models import AnswerTopic, FeedbackAnswer, FeedbackResponse
from workflows.models.feedback import QuestionKind, ServiceStep

DEFAULT_WEEKS = 26
MAX_WEEKS = 104
NEGATIVE_COMMENTS = 20
TOP_TOPICS = 10

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
CSAT_SATISFIED_MIN = 4
CSAT_NEGATIVE_MAX = 2

TEXT_KINDS = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)

NEGATIVE_ANSWER_Q = (
    Q(sentiment__lt=0)
    | Q(kind=QuestionKind.NPS, score__lte=DETRACTOR_MAX)
    | Q(kind=QuestionKind.CSAT, score__lte=CSAT_NEGATIVE_MAX)
)
"""The one definition of a negative answer (see the module's docstring)."""

_SCORED_TEXT_Q = Q(kind__in=TEXT_KINDS, scored_at__isnull=False) & ~Q(text="")


# -- the scores in Python ----------------------------------------------------------------------


def nps(scores: Iterable[int]) -> float | None:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) - % detractors (0-6); None if
    there is no answer."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for value in values if value >= PROMOTER_MIN)
    detractors = sum(1 for value in values if value <= DETRACTOR_MAX)
    return 100.0 * (promoters - detractors) / len(values)


def csat(scores: Iterable[int]) -> tuple[float | None, float | None]:
    """(average score, share of 4-5 as a percentage) of 1-5 answers; (None, None) if none."""
    values = list(scores)
    if not values:
        return None, None
    satisfied = sum(1 for value in values if value >= CSAT_SATISFIED_MIN)
    return sum(values) / len(values), 100.0 * satisfied / len(values)


# -- the same in SQL ---------------------------------------------------------------------------

_promoters = Count("nps", filter=Q(nps__gte=PROMOTER_MIN))
_detractors = Count("nps", filter=Q(nps__lte=DETRACTOR_MAX))
_nps_answers = Count("nps")
NPS_SQL = ExpressionWrapper(
    Value(100.0)
    * Cast(_promoters - _detractors, FloatField())
    / NullIf(Cast(_nps_answers, FloatField()), Value(0.0)),
    output_field=FloatField(),
)
"""NPS as an aggregate over FeedbackResponse.nps (NULL when no answer)."""

CSAT_AVERAGE_SQL = Avg(Cast("csat", FloatField()))
CSAT_SATISFIED_SQL = ExpressionWrapper(
    Value(100.0)
    * Cast(Count("csat", filter=Q(csat__gte=CSAT_SATISFIED_MIN)), FloatField())
    / NullIf(Cast(Count("csat"), FloatField()), Value(0.0)),
    output_field=FloatField(),
)


# -- the range and the rows --------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilter:
    start: datetime
    end: datetime
    form_id: int | None = None


def default_range(*, weeks: int = DEFAULT_WEEKS, today: date | None = None) -> tuple[date, date]:
    """The last `weeks` ISO weeks, this one included: (its first Monday, today)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=weeks - 1), today


def dashboard_filter(*, first: date, last: date, form_id: int | None = None) -> DashboardFilter:
    """The local days first..last (both included) as an aware [start, end) range."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return DashboardFilter(start=start, end=end, form_id=form_id)


def _responses(user: User, where: DashboardFilter) -> QuerySet[FeedbackResponse]:
    responses = FeedbackResponse.objects.filter(
        response_visibility_q(user), submitted_at__gte=where.start, submitted_at__lt=where.end
    )
    if where.form_id is not None:
        responses = responses.filter(form_id=where.form_id)
    return responses.order_by()


def _answers_q(user: User, where: DashboardFilter, *, prefix: str = "") -> Q:
    """The answers of `_responses` as a Q over FeedbackAnswer (`prefix` leads to the answer)."""
    response = f"{prefix}response__"
    q = response_visibility_q(user, prefix=response) & Q(
        **{f"{response}submitted_at__gte": where.start, f"{response}submitted_at__lt": where.end}
    )
    if where.form_id is not None:
        q &= Q(**{f"{response}form_id": where.form_id})
    return q


@dataclass
class NpsWeek:
    week: date  # its Monday
    answers: int = 0
    promoters: int = 0
    detractors: int = 0
    nps: float | None = None

    @property
    def label(self) -> str:
        year, number, _weekday = self.week.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def passives(self) -> int:
        return self.answers - self.promoters - self.detractors


def nps_by_week(*, user: User, where: DashboardFilter) -> list[NpsWeek]:
    """NPS per local ISO week of the range, every week listed (weeks without answers: 0 answers,
    no NPS). One GROUP BY query."""
    rows = (
        _responses(user, where)
        .filter(nps__isnull=False)
        .annotate(week=TruncWeek("submitted_at"))
        .values("week")
        .annotate(
            nps_answers=_nps_answers, promoters=_promoters, detractors=_detractors, score=NPS_SQL
        )
        .order_by("week")
    )
    by_week = {}
    for row in rows:
        week = row["week"]
        week = timezone.localtime(week).date() if isinstance(week, datetime) else week
        by_week[week] = NpsWeek(
            week=week,
            answers=row["nps_answers"],
            promoters=row["promoters"],
            detractors=row["detractors"],
            nps=row["score"],
        )
    first = timezone.localtime(where.start).date()
    monday = first - timedelta(days=first.weekday())
    last = timezone.localtime(where.end - timedelta(microseconds=1)).date()
    weeks = []
    while monday <= last:
        weeks.append(by_week.get(monday) or NpsWeek(week=monday))
        monday += timedelta(weeks=1)
    return weeks


@dataclass
class StepCsat:
    step: str
    answers: int
    satisfied: int
    average: float | None
    satisfied_share: float | None

    @property
    def label(self) -> str:
        return str(ServiceStep(self.step).label) if self.step in ServiceStep.values else self.step


def _score_rows(user: User, where: DashboardFilter) -> dict[str, dict]:
    """Per service step, the scores' counts: one GROUP BY over the responses alone. A response
    holds its NPS and CSAT answers' scores, so no join to the answers is needed for them."""
    rows = (
        _responses(user, where)
        .values("service_step")
        .annotate(
            nps_answers=Count("nps"),
            nps_negative=Count("nps", filter=Q(nps__lte=DETRACTOR_MAX)),
            csat_answers=Count("csat"),
            csat_satisfied=Count("csat", filter=Q(csat__gte=CSAT_SATISFIED_MIN)),
            csat_negative=Count("csat", filter=Q(csat__lte=CSAT_NEGATIVE_MAX)),
            csat_average=CSAT_AVERAGE_SQL,
            csat_satisfied_share=CSAT_SATISFIED_SQL,
        )
    )
    return {row["service_step"]: dict(row) for row in rows}


def _text_rows(user: User, where: DashboardFilter) -> dict[str, dict]:
    """Per service step, the free-text answers read and those that read negative: one GROUP BY
    over the text answers joined to their responses."""
    rows = (
        FeedbackAnswer.objects.filter(_answers_q(user, where), kind__in=TEXT_KINDS)
        .values(step=F("response__service_step"))
        .annotate(
            text_read=Count("id", filter=Q(sentiment__isnull=False)),
            text_negative=Count("id", filter=Q(sentiment__lt=0)),
            scored_text=Count("id", filter=_SCORED_TEXT_Q),
        )
        .order_by()
    )
    return {row["step"]: dict(row) for row in rows}


def _step_order(step: str) -> int:
    return ServiceStep.values.index(step) if step in ServiceStep.values else len(ServiceStep)


def csat_by_step(
    *, user: User, where: DashboardFilter, score_rows: dict[str, dict] | None = None
) -> list[StepCsat]:
    """CSAT per service step (steps with answers only), in the steps' order. One query."""
    if score_rows is None:
        score_rows = _score_rows(user, where)
    return sorted(
        (
            StepCsat(
                step=step,
                answers=row["csat_answers"],
                satisfied=row["csat_satisfied"],
                average=row["csat_average"],
                satisfied_share=row["csat_satisfied_share"],
            )
            for step, row in score_rows.items()
            if row["csat_answers"]
        ),
        key=lambda item: _step_order(item.step),
    )


@dataclass
class StepNegatives:
    step: str
    answers: int  # answers that can be negative (a score, or text that was read)
    negative: int
    scored_text: int

    @property
    def label(self) -> str:
        return str(ServiceStep(self.step).label) if self.step in ServiceStep.values else self.step

    @property
    def negative_share(self) -> float | None:
        return 100.0 * self.negative / self.answers if self.answers else None


def negatives_by_step(
    *,
    user: User,
    where: DashboardFilter,
    score_rows: dict[str, dict] | None = None,
    text_rows: dict[str, dict] | None = None,
) -> list[StepNegatives]:
    """Negative answers per service step, the most first (NEGATIVE_ANSWER_Q counted as its
    three parts: detractors, CSAT 1-2, text below 0). Two GROUP BY queries."""
    if score_rows is None:
        score_rows = _score_rows(user, where)
    if text_rows is None:
        text_rows = _text_rows(user, where)
    items = []
    for step in set(score_rows) | set(text_rows):
        scores = score_rows.get(step, {})
        texts = text_rows.get(step, {})
        items.append(
            StepNegatives(
                step=step,
                answers=scores.get("nps_answers", 0)
                + scores.get("csat_answers", 0)
                + texts.get("text_read", 0),
                negative=scores.get("nps_negative", 0)
                + scores.get("csat_negative", 0)
                + texts.get("text_negative", 0),
                scored_text=texts.get("scored_text", 0),
            )
        )
    return sorted(
        (item for item in items if item.answers or item.scored_text),
        key=lambda item: (-item.negative, _step_order(item.step)),
    )


@dataclass
class TopicFigure:
    topic_id: int
    name_en: str
    name_zh_hans: str
    answers: int
    average_sentiment: float | None
    share: float | None = None  # of the scored text answers, as a percentage

    def name(self, language: str) -> str:
        if language.startswith("zh"):
            return self.name_zh_hans or self.name_en
        return self.name_en or self.name_zh_hans


def top_topics(
    *, user: User, where: DashboardFilter, scored_text_answers: int, limit: int = TOP_TOPICS
) -> list[TopicFigure]:
    """The topics most answers were sorted into, with their share of the scored text answers
    (`scored_text_answers`, counted by `negatives_by_step`) and their answers' average
    sentiment. One GROUP BY over AnswerTopic joined to the answers."""
    rows = (
        AnswerTopic.objects.filter(_answers_q(user, where, prefix="answer__"))
        .values("topic_id", name_en=F("topic__name_en"), name_zh_hans=F("topic__name_zh_hans"))
        .annotate(answers=Count("answer_id"), average_sentiment=Avg("answer__sentiment"))
        .order_by("-answers", "topic_id")[:limit]
    )
    figures = [TopicFigure(**row) for row in rows]
    for figure in figures:
        if scored_text_answers:
            figure.share = 100.0 * figure.answers / scored_text_answers
    return figures


def negative_comments(
    *, user: User, where: DashboardFilter, limit: int = NEGATIVE_COMMENTS
) -> list[FeedbackAnswer]:
    """The latest negative free-text answers, with their response, form and customer (one
    query; the partial index on negative sentiment narrows the answers)."""
    return list(
        FeedbackAnswer.objects.filter(
            _answers_q(user, where), NEGATIVE_ANSWER_Q, kind__in=TEXT_KINDS
        )
        .exclude(text="")
        .select_related("response__form", "response__customer")
        .only(
            "id",
            "text",
            "sentiment",
            "kind",
            "response__id",
            "response__submitted_at",
            "response__service_step",
            "response__nps",
            "response__csat",
            "response__form__name",
            "response__customer__id",
            "response__customer__name",
        )
        .order_by("-response__submitted_at", "-id")[:limit]
    )


@dataclass
class Dashboard:
    where: DashboardFilter
    weeks: list[NpsWeek] = field(default_factory=list)
    csat_steps: list[StepCsat] = field(default_factory=list)
    negative_steps: list[StepNegatives] = field(default_factory=list)
    topics: list[TopicFigure] = field(default_factory=list)
    comments: list[FeedbackAnswer] = field(default_factory=list)
    scored_text_answers: int = 0

    @property
    def nps_answers(self) -> int:
        return sum(week.answers for week in self.weeks)

    @property
    def nps(self) -> float | None:
        answers = self.nps_answers
        if not answers:
            return None
        promoters = sum(week.promoters for week in self.weeks)
        detractors = sum(week.detractors for week in self.weeks)
        return 100.0 * (promoters - detractors) / answers


@read_replica()
def feedback_dashboard(*, user: User, where: DashboardFilter) -> Dashboard:
    """Every figure of the page: five aggregate queries whatever the number of responses."""
    score_rows = _score_rows(user, where)
    negative_steps = negatives_by_step(
        user=user, where=where, score_rows=score_rows, text_rows=_text_rows(user, where)
    )
    scored_text = sum(step.scored_text for step in negative_steps)
    return Dashboard(
        where=where,
        weeks=nps_by_week(user=user, where=where),
        csat_steps=csat_by_step(user=user, where=where, score_rows=score_rows),
        negative_steps=[step for step in negative_steps if step.answers],
        topics=top_topics(user=user, where=where, scored_text_answers=scored_text),
        comments=negative_comments(user=user, where=where),
        scored_text_answers=scored_text,
    )
