"""A message's words: a MessageTemplate per (code, channel, language), rendered with Django's
template engine and the customer's fields.

Customers have no language of their own in crm (Preference is free text), so every customer
gets settings.LANGUAGE_CODE, or the other language's template when that one is missing."""

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template
from django.utils.translation import gettext as _

from workflows.models import MessageTemplate


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    body: str


def customer_language(customer) -> str:
    """The language to write to a customer in (see the module's docstring)."""
    return getattr(customer, "language", "") or settings.LANGUAGE_CODE


def template_find(*, code: str, channel: str, language: str) -> MessageTemplate:
    """The active template in `language`, else in the other language (one query)."""
    candidates = list(
        MessageTemplate.objects.filter(code=code, channel=channel, is_active=True).order_by(
            "language"
        )
    )
    for template in sorted(candidates, key=lambda t: t.language != language):
        return template
    raise ValidationError(
        _("No active message template %(code)s for the channel %(channel)s.")
        % {"code": code, "channel": channel}
    )


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # The project's engine settings without its loaders: templates come from the database.
    return Engine(autoescape=False).from_string(source)


def render(template: MessageTemplate, *, customer, context: dict | None = None) -> Rendered:
    """Render a template for a customer: `{{ customer.name }}` and the caller's context."""
    values = Context({"customer": customer, **(context or {})}, autoescape=False)
    return Rendered(
        language=template.language,
        subject=_compiled(template.subject).render(values).strip(),
        body=_compiled(template.body).render(values),
    )
