"""The "Feedback" panel of the customer's page: the latest responses, the number of adopted
suggestions and, for experience officers, their contributions (answers to product-test forms).
Five queries, whatever the customer's history."""

from typing import Any

from django.db.models import Count, Q

from workflows.models.feedback import ServiceStep

LATEST_RESPONSES = 5
LATEST_CONTRIBUTIONS = 10


def feedback_context(customer: Any, request: Any) -> dict[str, Any]:
    from workflows.models import AdoptedSuggestion, ExperienceOfficer, FeedbackResponse

    user = getattr(request, "user", None)
    responses = (
        FeedbackResponse.objects.filter(customer_id=customer.pk)
        .select_related("form")
        .only("pk", "submitted_at", "nps", "csat", "service_step", "form__name")
        .order_by("-submitted_at", "-id")
    )
    officer = (
        ExperienceOfficer.objects.filter(customer_id=customer.pk)
        .select_related("segment")
        .only("pk", "invited_at", "is_active", "segment__name")
        .order_by("-is_active", "-invited_at", "-id")
        .first()
    )
    counts = FeedbackResponse.objects.filter(customer_id=customer.pk).aggregate(
        responses=Count("pk"),
        contributions=Count("pk", filter=Q(service_step=ServiceStep.PRODUCT_TEST)),
    )
    contributions = []
    if officer is not None:
        contributions = list(
            responses.filter(service_step=ServiceStep.PRODUCT_TEST)[:LATEST_CONTRIBUTIONS]
        )
    return {
        "responses": list(responses[:LATEST_RESPONSES]),
        "response_count": counts["responses"],
        "adopted_count": AdoptedSuggestion.objects.filter(customer_id=customer.pk).count(),
        "officer": officer,
        "contributions": contributions,
        "contribution_count": counts["contributions"],
        "can_view": user is not None and user.has_perm("workflows.view_feedbackresponse"),
        "can_view_adopted": user is not None and user.has_perm("workflows.view_adoptedsuggestion"),
    }
