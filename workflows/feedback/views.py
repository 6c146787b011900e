"""The public feedback pages (no login), made for a phone: /f/<form>/ (the open link),
/f/<form>/<token>/ (a personal one-time link) and /f/<form>/thanks/.

Plain server-rendered forms that work without JavaScript. The language is the link's
(`?lang=en|zh-hans`, kept across the post), else the browser's (LocaleMiddleware). Every page
is `no-store` (personal data) and `noindex`. A post is counted against the per-IP and
per-link limits first; the honeypot filled looks like success and stores nothing. After a
successful answer the browser is sent (303) to the thank-you page, so the token leaves the
address bar and a reload posts nothing.
"""

import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from workflows.feedback.forms import HONEYPOT, AnswerForm
from workflows.feedback.links import InvalidToken, invitation_id_from_token
from workflows.feedback.ratelimit import feedback_post_allowed
from workflows.feedback.submission import (
    AlreadyAnswered,
    FormClosed,
    LinkExpired,
    response_submit,
)
from workflows.feedback.versions import LANGUAGES, localized
from workflows.models import FeedbackForm, FeedbackInvitation

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60


class _Page:
    """What every public page knows: the language, and whether the link chose it."""

    def __init__(self, request: HttpRequest):
        chosen = request.GET.get("lang", "")
        self.link_language = chosen if chosen in LANGUAGES else ""
        self.language = self.link_language or _supported(request.LANGUAGE_CODE)
        translation.activate(self.language)
        request.LANGUAGE_CODE = self.language

    def query(self) -> str:
        return "?" + urlencode({"lang": self.link_language}) if self.link_language else ""

    def context(self, request: HttpRequest, **extra) -> dict:
        path = request.path
        return {
            "html_lang": "zh-Hans" if self.language == "zh-hans" else self.language,
            "language": self.language,
            "switch": [
                {"code": "en", "label": "English", "url": f"{path}?lang=en"},
                {"code": "zh-hans", "label": "中文", "url": f"{path}?lang=zh-hans"},
            ],
            **extra,
        }


def _supported(code: str) -> str:
    return code if code in LANGUAGES else "en"


def _headers(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)  # includes no-store
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


STATUSES = {"invalid": 404, "closed": 404, "expired": 410, "answered": 410, "rate_limited": 429}


def _message_texts(kind: str) -> tuple[str, str]:
    # Literal gettext calls, so makemessages finds each one.
    if kind == "invalid":
        return _("This link does not work"), _(
            "Please check that you opened the whole link from your message. If it still does "
            "not work, ask us for a new one."
        )
    if kind == "closed":
        return _("This form is not available"), _(
            "It may have ended or been withdrawn. Thank you for your interest."
        )
    if kind == "expired":
        return _("This link has expired"), _(
            "Personal links are valid for a limited time. Thank you for your interest; we will "
            "ask for your opinion again."
        )
    if kind == "answered":
        return _("You have already answered"), _(
            "Thank you! We have received your answers. Each personal link takes one answer."
        )
    return _("Too many attempts"), _("Please wait a minute, then try again.")


def _message(request: HttpRequest, page: _Page, kind: str, form: FeedbackForm | None = None):
    status = STATUSES[kind]
    title, text = _message_texts(kind)
    context = page.context(request, kind=kind, title=title, text=text, form=form)
    response = render(request, "workflows/feedback/message.html", context, status=status)
    if kind == "rate_limited":
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return _headers(response)


def _active_form(slug: str) -> FeedbackForm | None:
    form = (
        FeedbackForm.objects.select_related("current_version")
        .filter(slug=slug, is_active=True, current_version__isnull=False)
        .first()
    )
    if form is not None:
        form.current_version.form = form  # the service reads it: no second query
    return form


def _thanks_redirect(form: FeedbackForm, page: _Page) -> HttpResponse:
    response = HttpResponseRedirect(
        reverse("feedback:thanks", kwargs={"slug": form.slug}) + page.query()
    )
    response.status_code = 303
    return _headers(response)


def _answer(
    request: HttpRequest,
    page: _Page,
    *,
    form: FeedbackForm,
    invitation: FeedbackInvitation | None,
) -> HttpResponse:
    version = form.current_version
    ask_contact = invitation is None and form.ask_contact
    options = {"version": version, "language": page.language, "ask_contact": ask_contact}
    if request.method == "POST":
        if request.POST.get(HONEYPOT):
            logger.info("Feedback honeypot filled: form=%s (nothing stored)", form.slug)
            return _thanks_redirect(form, page)
        answer_form = AnswerForm(request.POST, **options)
        if answer_form.is_valid():
            try:
                response_submit(
                    version=version,
                    data=answer_form.answers(),
                    invitation=invitation,
                    language=page.language,
                    contact=answer_form.contact(),
                )
            except ValidationError as error:
                answer_form.service_errors_add(error)
            except AlreadyAnswered:
                return _message(request, page, "answered", form)
            except LinkExpired:
                return _message(request, page, "expired", form)
            except FormClosed:
                return _message(request, page, "closed", form)
            else:
                return _thanks_redirect(form, page)
    else:
        answer_form = AnswerForm(**options)
    questions = answer_form.questions()
    contact = answer_form.contact_fields()
    context = page.context(
        request,
        form=form,
        title=localized(version.title, page.language),
        intro=localized(version.intro, page.language),
        answer_form=answer_form,
        questions=questions,
        contact=contact,
        errors=answer_form.error_summary(questions, contact) if answer_form.is_bound else [],
        action=request.path + page.query(),
    )
    return _headers(render(request, "workflows/feedback/form.html", context))


@require_http_methods(["GET", "POST"])
def answer_open(request: HttpRequest, slug: str) -> HttpResponse:
    """The form's open link: anyone may answer, anonymously (optional contact details)."""
    page = _Page(request)
    if request.method == "POST" and not feedback_post_allowed(request):
        return _message(request, page, "rate_limited")
    form = _active_form(slug)
    if form is None or not form.open_link:
        return _message(request, page, "closed")
    return _answer(request, page, form=form, invitation=None)


@require_http_methods(["GET", "POST"])
def answer_personal(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A personal link: one answer, before it expires, for the form it was made for."""
    page = _Page(request)
    if request.method == "POST" and not feedback_post_allowed(request, token=token):
        return _message(request, page, "rate_limited")
    form = _active_form(slug)
    if form is None:
        return _message(request, page, "closed")
    try:
        invitation_id = invitation_id_from_token(token)
    except InvalidToken:
        return _message(request, page, "invalid", form)
    # Another form's invitation looks exactly like a link that does not exist.
    invitation = FeedbackInvitation.objects.filter(pk=invitation_id, form=form).first()
    if invitation is None:
        return _message(request, page, "invalid", form)
    if invitation.answered_at is not None:
        return _message(request, page, "answered", form)
    if invitation.expires_at <= timezone.now():
        return _message(request, page, "expired", form)
    return _answer(request, page, form=form, invitation=invitation)


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    page = _Page(request)
    form = FeedbackForm.objects.select_related("current_version").filter(slug=slug).first()
    title = ""
    if form is not None and form.current_version is not None:
        title = localized(form.current_version.title, page.language)
    context = page.context(request, form=form, title=title)
    return _headers(render(request, "workflows/feedback/thanks.html", context))
