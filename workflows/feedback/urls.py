"""The public feedback pages (no login): /f/<form>/ (open link), /f/<form>/<token>/ (personal)."""

from django.urls import path

from workflows.feedback import views

app_name = "feedback"
urlpatterns = [
    path("<slug:slug>/", views.answer_open, name="open"),
    path("<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("<slug:slug>/<str:token>/", views.answer_personal, name="personal"),
]
