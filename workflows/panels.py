"""workflows' panel on the customer's page (crm.panels): the last messages and any active
suppression, registered from WorkflowsConfig.ready(). Two queries, whatever the history."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.panels import Panel, register_panel

LAST_MESSAGES = 10


def messages_context(customer: Any, request: Any) -> dict[str, Any]:
    from workflows.models import Message
    from workflows.services.events import active_suppression

    user = getattr(request, "user", None)
    return {
        "messages": list(
            Message.objects.filter(customer_id=customer.pk)
            .only(
                "pk", "created_at", "channel", "purpose", "state", "refusal", "subject", "occasion"
            )
            .order_by("-created_at", "-id")[:LAST_MESSAGES]
        ),
        "suppression": active_suppression(customer_id=customer.pk),
        "can_view": user is not None and user.has_perm("workflows.view_message"),
        "can_record_event": user is not None and user.has_perm("workflows.add_sensitiveevent"),
    }


def register_panels() -> None:
    register_panel(
        Panel(
            key="workflows_messages",
            title=_("Messages"),
            template="workflows/panels/messages.html",
            get_context=messages_context,
            order=60,
        )
    )


def register_feedback_panel() -> None:
    from workflows.feedback.panel import feedback_context

    register_panel(
        Panel(
            key="workflows_feedback",
            title=_("Feedback"),
            template="workflows/panels/feedback.html",
            get_context=feedback_context,
            order=65,
        )
    )
