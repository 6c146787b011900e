"""Reads of feedback forms and responses, for the API (and anyone listing them)."""

from django.db.models import Prefetch, QuerySet

from crm.selectors import User, customer_visibility_q
from workflows.models import FeedbackAnswer, FeedbackForm, FeedbackResponse


def feedback_form_list() -> QuerySet[FeedbackForm]:
    """Active forms with a published version, newest first, the version joined."""
    return (
        FeedbackForm.objects.filter(is_active=True, current_version__isnull=False)
        .select_related("current_version")
        .order_by("-created_at", "-id")
    )


def _with_answers(queryset: QuerySet[FeedbackResponse]) -> QuerySet[FeedbackResponse]:
    answers = FeedbackAnswer.objects.order_by("id").prefetch_related("topics")
    return queryset.select_related("form", "version").prefetch_related(
        Prefetch("answers", queryset=answers)
    )


def feedback_response_list(*, user: User) -> QuerySet[FeedbackResponse]:
    """The responses of the customers the user may see (anonymous ones only for a user who
    sees every customer), with their form, version, answers and topics: four queries a page."""
    return _with_answers(
        FeedbackResponse.objects.filter(customer_visibility_q(user, prefix="customer__"))
    )


def feedback_response_get(*, response_id: int) -> FeedbackResponse:
    """One response with its answers, unscoped: for the caller that just stored it."""
    return _with_answers(FeedbackResponse.objects.all()).get(pk=response_id)
