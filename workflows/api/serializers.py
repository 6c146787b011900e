"""Input and output of the feedback API (workflows.api.views)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.serializers import StrictInputSerializer, choice_field_class
from crm.masking import mask_email, mask_phone
from workflows.feedback.versions import LANGUAGES
from workflows.models import FeedbackAnswer, FeedbackForm, FeedbackResponse, FormVersion
from workflows.models.feedback import QuestionKind, ServiceStep

ServiceStepField = choice_field_class("FeedbackServiceStep", ServiceStep.choices)
QuestionKindField = choice_field_class("FeedbackQuestionKind", QuestionKind.choices)
LanguageField = choice_field_class("FeedbackLanguage", [(code, code) for code in LANGUAGES])


class TextsSerializer(serializers.Serializer):
    """A text in each language: {"en": ..., "zh-hans": ...}."""

    def get_fields(self):
        return {code: serializers.CharField(allow_blank=True) for code in LANGUAGES}

    def to_representation(self, instance):
        return {code: instance.get(code, "") for code in LANGUAGES}


class ChoiceOutputSerializer(serializers.Serializer):
    value = serializers.CharField(help_text=_("What an answer sends."))
    label = TextsSerializer()


class QuestionOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text=_('The key of its answer, e.g. "q12".'))
    kind = QuestionKindField()
    required = serializers.BooleanField()
    text = TextsSerializer()
    help = TextsSerializer()
    choices = ChoiceOutputSerializer(many=True)


class VersionOutputSerializer(serializers.ModelSerializer):
    title = TextsSerializer()
    intro = TextsSerializer()
    questions = QuestionOutputSerializer(many=True)

    class Meta:
        model = FormVersion
        fields = ["number", "published_at", "title", "intro", "questions"]


class FormOutputSerializer(serializers.ModelSerializer):
    service_step = ServiceStepField()
    current_version = VersionOutputSerializer()

    class Meta:
        model = FeedbackForm
        fields = ["slug", "name", "service_step", "open_link", "ask_contact", "current_version"]


class TopicOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name_en = serializers.CharField()
    name_zh_hans = serializers.CharField()


class AnswerOutputSerializer(serializers.ModelSerializer):
    kind = QuestionKindField()
    topics = TopicOutputSerializer(many=True)

    class Meta:
        model = FeedbackAnswer
        fields = [
            "question_id",
            "kind",
            "score",
            "choices",
            "text",
            "text_language",
            "sentiment",
            "topics",
        ]


class ResponseOutputSerializer(serializers.ModelSerializer):
    form = serializers.CharField(source="form.slug")
    version = serializers.IntegerField(source="version.number")
    service_step = ServiceStepField()
    contact_phone = serializers.SerializerMethodField()
    contact_email = serializers.SerializerMethodField()
    answers = AnswerOutputSerializer(many=True)

    class Meta:
        model = FeedbackResponse
        fields = [
            "id",
            "form",
            "version",
            "service_step",
            "customer",
            "occasion",
            "language",
            "submitted_at",
            "nps",
            "csat",
            "contact_name",
            "contact_phone",
            "contact_email",
            "answers",
        ]

    def _show_contact(self) -> bool:
        return bool(self.context.get("show_contact"))

    @extend_schema_field(OpenApiTypes.STR)
    def get_contact_phone(self, response) -> str:
        phone = response.contact_phone
        return phone if self._show_contact() else mask_phone(phone)

    @extend_schema_field(OpenApiTypes.STR)
    def get_contact_email(self, response) -> str:
        email = response.contact_email
        return email if self._show_contact() else mask_email(email)


class ContactInputSerializer(StrictInputSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)


class SubmitInputSerializer(StrictInputSerializer):
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text=_(
            "Question id -> answer: NPS and CSAT a whole number, a single choice its value "
            '("2"), a multiple choice a list of values, free text a string.'
        ),
    )
    customer = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("The customer who answered (one the caller may see); empty: anonymous."),
    )
    language = LanguageField(required=False, allow_blank=True, default="")
    contact = ContactInputSerializer(
        required=False, help_text=_("Anonymous answers to a form that asks for contact details.")
    )
