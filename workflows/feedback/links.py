"""Personal one-time links: the token signs the invitation's id with SECRET_KEY (HMAC-SHA256,
256 bits), so it cannot be guessed or altered, and nothing secret is stored. The invitation row
holds the customer, the occasion, the expiry and whether it was answered."""

from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "workflows.feedback.invitation"


class InvalidToken(Exception):
    """The token was altered, or is not a feedback link at all."""


def invitation_token(invitation_id: int) -> str:
    return signing.Signer(salt=_SALT).sign(str(invitation_id))


def invitation_id_from_token(token: str) -> int:
    try:
        return int(signing.Signer(salt=_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise InvalidToken from None


def invitation_path(*, form_slug: str, invitation_id: int, language: str = "") -> str:
    path = reverse(
        "feedback:personal", kwargs={"slug": form_slug, "token": invitation_token(invitation_id)}
    )
    return f"{path}?{urlencode({'lang': language})}" if language else path


def invitation_url(*, form_slug: str, invitation_id: int, language: str = "") -> str:
    """The absolute link a message carries (WORKFLOWS_PUBLIC_BASE_URL + path)."""
    path = invitation_path(form_slug=form_slug, invitation_id=invitation_id, language=language)
    return settings.WORKFLOWS_PUBLIC_BASE_URL.rstrip("/") + path
