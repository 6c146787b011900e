"""Topic rules and the user dictionary in admin (supervisors). Saving or deleting either
makes the every-minute task read every free-text answer again."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from workflows.feedback.reading.topics import topic_keywords
from workflows.models import AnswerTopic, DictionaryWord, FeedbackTopic

_REREAD = _("The answers will be read again with the new rules within a minute.")


class RulesChangeAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self.message_user(request, _REREAD, messages.INFO)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self.message_user(request, _REREAD, messages.INFO)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        self.message_user(request, _REREAD, messages.INFO)


class FeedbackTopicForm(forms.ModelForm):
    class Meta:
        model = FeedbackTopic
        fields = ("name_en", "name_zh_hans", "keywords", "is_active")

    def clean_keywords(self) -> str:
        keywords = self.cleaned_data["keywords"]
        if not topic_keywords(keywords):
            raise forms.ValidationError(_("Give at least one keyword."), code="no_keywords")
        return keywords


@admin.register(FeedbackTopic)
class FeedbackTopicAdmin(RulesChangeAdmin):
    form = FeedbackTopicForm
    list_display = ("name_en", "name_zh_hans", "keyword_preview", "answer_count", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_en", "name_zh_hans", "keywords")
    readonly_fields = ("updated_at",)

    def get_queryset(self, request):
        # One count per listed topic, over the (topic) index of the answers' topics.
        counts = (
            AnswerTopic.objects.filter(topic=OuterRef("pk"))
            .order_by()
            .values("topic")
            .annotate(count=Count("*"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(answer_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))
        )

    @admin.display(description=_("keywords"))
    def keyword_preview(self, obj: FeedbackTopic) -> str:
        return Truncator(" / ".join(topic_keywords(obj.keywords))).chars(80)

    @admin.display(description=_("answers"), ordering="answer_count")
    def answer_count(self, obj: FeedbackTopic) -> int:
        return obj.answer_count


class DictionaryWordForm(forms.ModelForm):
    class Meta:
        model = DictionaryWord
        fields = ("word", "frequency")

    def clean_word(self) -> str:
        word = self.cleaned_data["word"].strip()
        if not word or any(character.isspace() for character in word):
            raise forms.ValidationError(
                _("One word, without spaces: jieba keeps it whole."), code="spaces"
            )
        return word


@admin.register(DictionaryWord)
class DictionaryWordAdmin(RulesChangeAdmin):
    form = DictionaryWordForm
    list_display = ("word", "frequency", "updated_at")
    search_fields = ("word",)
    readonly_fields = ("updated_at",)
