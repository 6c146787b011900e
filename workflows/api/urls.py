from django.urls import path

from workflows.api.views import (
    FormDetailView,
    FormListView,
    ResponseListView,
    ResponseSubmitView,
)

urlpatterns = [
    path("forms/", FormListView.as_view(), name="feedback-forms"),
    path("forms/<slug:slug>/", FormDetailView.as_view(), name="feedback-form"),
    path(
        "forms/<slug:slug>/responses/",
        ResponseSubmitView.as_view(),
        name="feedback-form-responses-submit",
    ),
    path("responses/", ResponseListView.as_view(), name="feedback-responses"),
]
