"""Feedback forms: built in admin, answered on public pages, read by the machine.

A form's questions are a draft that supervisors edit; publishing freezes them into a
FormVersion (JSON), and every response refers to the version it answered. Customers answer
through a personal one-time link (a FeedbackInvitation, one response at most: the response's
unique `invitation` makes it so) or through the form's open link (anonymous).

Free-text answers are read by workflows/feedback/reading: segmented (jieba, with the
DictionaryWord user dictionary), given topics (FeedbackTopic keywords) and a sentiment score.
`scored_at` empty means "to be scored"; changing the rules empties it again (set-based).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ServiceStep(models.TextChoices):
    """The moment a form asks about, so results can be compared by step."""

    GENERAL = "general", _("General")
    TICKET = "ticket", _("After a service ticket")
    ONBOARDING = "onboarding", _("After onboarding")
    BRANCH_VISIT = "branch_visit", _("After a branch visit")
    PRODUCT_TEST = "product_test", _("Product test (experience officers)")


class QuestionKind(models.TextChoices):
    NPS = "nps", _("NPS (0-10)")
    CSAT = "csat", _("CSAT (1-5)")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    SHORT_TEXT = "short_text", _("Short free text")
    LONG_TEXT = "long_text", _("Long free text")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
TEXT_KINDS = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)


class FeedbackForm(models.Model):
    name = models.CharField(_("name"), max_length=200, help_text=_("For staff only."))
    slug = models.SlugField(
        _("link name"), max_length=50, unique=True, help_text=_("Part of the form's links.")
    )
    service_step = models.CharField(
        _("service step"), max_length=20, choices=ServiceStep.choices, default=ServiceStep.GENERAL
    )
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh_hans = models.CharField(_("title (Simplified Chinese)"), max_length=200)
    intro_en = models.TextField(_("introduction (English)"), blank=True)
    intro_zh_hans = models.TextField(_("introduction (Simplified Chinese)"), blank=True)
    open_link = models.BooleanField(
        _("open link"),
        default=False,
        help_text=_("Anyone with the form's open link may answer, without a personal link."),
    )
    ask_contact = models.BooleanField(
        _("ask for contact details"),
        default=False,
        help_text=_("The open link asks for an optional name, phone and e-mail."),
    )
    link_valid_days = models.PositiveSmallIntegerField(
        _("personal links valid for (days)"), default=30
    )
    is_active = models.BooleanField(_("active"), default=True)
    current_version = models.ForeignKey(
        "FormVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("published version"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("feedback form")
        verbose_name_plural = _("feedback forms")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class FormQuestion(models.Model):
    """A question of the form's draft; customers see it once the form is published."""

    form = models.ForeignKey(
        FeedbackForm, on_delete=models.CASCADE, related_name="questions", verbose_name=_("form")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=20, choices=QuestionKind.choices)
    required = models.BooleanField(_("required"), default=True)
    text_en = models.CharField(_("question (English)"), max_length=300)
    text_zh_hans = models.CharField(_("question (Simplified Chinese)"), max_length=300)
    help_en = models.CharField(_("help text (English)"), max_length=300, blank=True)
    help_zh_hans = models.CharField(_("help text (Simplified Chinese)"), max_length=300, blank=True)
    choices_en = models.TextField(
        _("choices (English)"), blank=True, help_text=_("Choice questions: one choice per line.")
    )
    choices_zh_hans = models.TextField(
        _("choices (Simplified Chinese)"),
        blank=True,
        help_text=_("The same choices in the same order, one per line."),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["form", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "order"], name="form_question_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.text_en}"

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in (text or "").splitlines() if line.strip()]

    def clean(self) -> None:
        english, chinese = self.lines(self.choices_en), self.lines(self.choices_zh_hans)
        if self.kind in CHOICE_KINDS:
            if len(english) < 2:
                raise ValidationError({"choices_en": _("A choice question needs two choices.")})
            if len(chinese) != len(english):
                raise ValidationError(
                    {"choices_zh_hans": _("Give the same number of choices in both languages.")}
                )
        elif english or chinese:
            raise ValidationError({"choices_en": _("Only choice questions have choices.")})


class FormVersion(models.Model):
    """A published, frozen copy of a form's questions.

    `questions` is a list of {"id": "q<question pk>", "kind", "required", "text": {language:
    text}, "help": {...}, "choices": [{"value": "1", "label": {language: text}}, ...]}."""

    form = models.ForeignKey(
        FeedbackForm,
        on_delete=models.CASCADE,
        related_name="versions",
        verbose_name=_("form"),
        db_index=False,  # the unique (form, number) serves it
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.JSONField(_("title"), default=dict)
    intro = models.JSONField(_("introduction"), default=dict)
    questions = models.JSONField(_("questions"), default=list)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="form_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.form_id} v{self.number}"


class FeedbackInvitation(models.Model):
    """A personal one-time link: names the customer and the occasion, expires, and accepts one
    response. The link's token is signed (workflows/feedback/links.py), never stored."""

    id = models.BigAutoField(primary_key=True)
    form = models.ForeignKey(
        FeedbackForm,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("form"),
        db_index=False,  # the unique (form, customer, occasion) serves it
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="feedback_invitations",
        verbose_name=_("customer"),
    )
    occasion = models.CharField(
        _("occasion"),
        max_length=150,
        help_text=_('What it asks about, e.g. "sending:4", "sequence:3:step:2" or "ticket:55".'),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("feedback invitation")
        verbose_name_plural = _("feedback invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "customer", "occasion"], name="feedback_invitation_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                name="feedback_invitation_remind",
                condition=Q(answered_at__isnull=True, reminded_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.form_id}/{self.customer_id} ({self.occasion})"


class FeedbackSending(models.Model):
    """A form sent to a segment: one personal link per customer, through the outbox."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Sent")

    form = models.ForeignKey(
        FeedbackForm, on_delete=models.PROTECT, related_name="sendings", verbose_name=_("form")
    )
    segment = models.ForeignKey(
        "crm.Segment", on_delete=models.PROTECT, related_name="+", verbose_name=_("segment")
    )
    channel = models.CharField(_("channel"), max_length=10)
    template_code = models.SlugField(
        _("message template code"),
        max_length=50,
        help_text=_("Its text gets the link as {{ feedback_link }}."),
    )
    scheduled_at = models.DateTimeField(_("send at"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.SCHEDULED
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    invited = models.PositiveIntegerField(_("invited"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("form sending")
        verbose_name_plural = _("form sendings")
        ordering = ["-scheduled_at", "-id"]

    def __str__(self) -> str:
        return f"{self.form} → {self.segment}"

    @property
    def occasion(self) -> str:
        return f"sending:{self.pk}"


class FeedbackResponse(models.Model):
    """One submitted form. Personal links: the customer and the invitation (at most one
    response each); open links: no customer, optional contact details."""

    id = models.BigAutoField(primary_key=True)
    form = models.ForeignKey(
        FeedbackForm,
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("form"),
        db_index=False,  # the (form, submitted_at) index serves it
    )
    version = models.ForeignKey(
        FormVersion, on_delete=models.PROTECT, related_name="responses", verbose_name=_("version")
    )
    service_step = models.CharField(
        _("service step"), max_length=20, choices=ServiceStep.choices, default=ServiceStep.GENERAL
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feedback_responses",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, submitted_at) index serves it
    )
    invitation = models.OneToOneField(
        FeedbackInvitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("personal link"),
    )
    occasion = models.CharField(_("occasion"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    nps = models.PositiveSmallIntegerField(_("NPS score"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("CSAT score"), null=True, blank=True)
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    interaction = models.OneToOneField(
        "crm.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback_response",
        verbose_name=_("timeline entry"),
    )

    class Meta:
        verbose_name = _("feedback response")
        verbose_name_plural = _("feedback responses")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["form", "submitted_at"], name="feedback_response_form"),
            models.Index(fields=["submitted_at"], name="feedback_response_submitted"),
            models.Index(fields=["service_step", "submitted_at"], name="feedback_response_step"),
            models.Index(fields=["customer", "-submitted_at"], name="feedback_response_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10), name="feedback_response_nps_range"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="feedback_response_csat_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} #{self.pk}"


class FeedbackAnswer(models.Model):
    """One question's answer. Free text is read later: `scored_at` empty means to be scored."""

    id = models.BigAutoField(primary_key=True)
    response = models.ForeignKey(
        FeedbackResponse,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("response"),
    )
    question_id = models.CharField(_("question"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20, choices=QuestionKind.choices)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    text = models.TextField(_("text"), blank=True)
    text_language = models.CharField(_("text language"), max_length=10, blank=True)
    sentiment = models.FloatField(
        _("sentiment"), null=True, blank=True, help_text=_("From -1 (negative) to 1 (positive).")
    )
    scored_at = models.DateTimeField(_("read at"), null=True, blank=True)
    topics: models.ManyToManyField[FeedbackTopic, AnswerTopic] = models.ManyToManyField(
        "FeedbackTopic",
        through="AnswerTopic",
        related_name="answers",
        verbose_name=_("topics"),
        blank=True,
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["response", "id"]
        indexes = [
            models.Index(
                fields=["id"],
                name="feedback_answer_to_score",
                condition=Q(scored_at__isnull=True) & ~Q(text=""),
            ),
            models.Index(
                fields=["sentiment"],
                name="feedback_answer_negative",
                condition=Q(sentiment__lt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"


class FeedbackTopic(models.Model):
    """A topic free text is sorted into when it contains one of the keywords."""

    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100)
    keywords = models.TextField(
        _("keywords"),
        help_text=_('Separated by "/", commas or new lines, e.g. 物流/快递/配送/delivery.'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("feedback topic")
        verbose_name_plural = _("feedback topics")
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name_en


class AnswerTopic(models.Model):
    answer = models.ForeignKey(
        FeedbackAnswer, on_delete=models.CASCADE, db_index=False, verbose_name=_("answer")
    )
    topic = models.ForeignKey(
        FeedbackTopic, on_delete=models.CASCADE, related_name="+", verbose_name=_("topic")
    )

    class Meta:
        verbose_name = _("answer topic")
        verbose_name_plural = _("answer topics")
        constraints = [
            models.UniqueConstraint(fields=["answer", "topic"], name="answer_topic_unique")
        ]

    def __str__(self) -> str:
        return f"{self.answer_id}: {self.topic_id}"


class DictionaryWord(models.Model):
    """A product or service word jieba must keep whole (its user dictionary)."""

    word = models.CharField(_("word"), max_length=50, unique=True)
    frequency = models.PositiveIntegerField(
        _("frequency"), null=True, blank=True, help_text=_("Empty: jieba's default.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("dictionary word")
        verbose_name_plural = _("dictionary words")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class AdoptedSuggestion(models.Model):
    """A customer's suggestion the team adopted: the customer is told and earns a bonus."""

    answer = models.OneToOneField(
        FeedbackAnswer,
        on_delete=models.PROTECT,
        related_name="adoption",
        verbose_name=_("suggestion"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="adopted_suggestions",
        verbose_name=_("customer"),
    )
    what_changed = models.TextField(
        _("what changed"), help_text=_("Told to the customer: “your suggestion led to …”.")
    )
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("adopted by"),
    )
    adopted_at = models.DateTimeField(_("adopted at"), default=timezone.now)
    interaction = models.OneToOneField(
        "crm.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="adopted_suggestion",
        verbose_name=_("timeline entry"),
    )

    class Meta:
        verbose_name = _("adopted suggestion")
        verbose_name_plural = _("adopted suggestions")
        ordering = ["-adopted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.what_changed[:50]}"


class ExperienceOfficer(models.Model):
    """A customer's term as an experience officer: invited to test products, they get
    product-test forms, and each answer counts as a quality review for the tiers."""

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="experience_officer_terms",
        verbose_name=_("customer"),
    )
    segment = models.ForeignKey(
        "crm.Segment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited from segment"),
    )
    invited_at = models.DateTimeField(_("invited at"), default=timezone.now)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("experience officer")
        verbose_name_plural = _("experience officers")
        ordering = ["-invited_at", "-id"]
        constraints = [
            # Earlier, ended terms stay as history; one active term per customer.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_active=True),
                name="experience_officer_one_active",
            )
        ]

    def __str__(self) -> str:
        return str(self.customer_id)
