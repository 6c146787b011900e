from django.urls import path

from workflows.api.tickets import (
    TicketDetailView,
    TicketListCreateView,
    TicketReplyView,
    TicketStatusView,
)

urlpatterns = [
    path("", TicketListCreateView.as_view(), name="tickets"),
    path("<int:pk>/", TicketDetailView.as_view(), name="ticket"),
    path("<int:pk>/status/", TicketStatusView.as_view(), name="ticket-status"),
    path("<int:pk>/replies/", TicketReplyView.as_view(), name="ticket-replies"),
]
