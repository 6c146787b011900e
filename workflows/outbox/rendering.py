"""A message's words: a MessageTemplate per (code, channel, language), rendered with Django's
template engine and the customer's fields.

Customers have no language of their own in crm (Preference is free text), so every customer
gets settings.LANGUAGE_CODE, or the other language's template when that one is missing.

Messages enqueued in bulk are rendered when they are sent, and some need more than the customer
to be written: a feedback message needs its personal link. A context provider, registered for
an occasion prefix (`message_context_register`), gives the extra context of a whole batch of
such messages in a query or two (`message_contexts`).
"""

from collections.abc import Callable, Iterable
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


class ContextMissing(Exception):
    """What a provider gives for a message it cannot complete (e.g. its personal link is gone):
    the message fails with this reason rather than go out with a hole in its text."""


ContextProvider = Callable[[list], dict[int, "dict | ContextMissing"]]
_providers: dict[str, list[ContextProvider]] = {}


def message_context_register(*prefixes: str) -> Callable[[ContextProvider], ContextProvider]:
    """Register `provider(messages) -> {message id: extra context | ContextMissing}` for the
    messages whose occasion starts with one of `prefixes`. It is called once per dispatch
    batch with all of them, so it must read in a fixed number of queries; a message it leaves
    out is rendered with the customer only."""

    def register(provider: ContextProvider) -> ContextProvider:
        for prefix in prefixes:
            if provider not in _providers.setdefault(prefix, []):
                _providers[prefix].append(provider)
        return provider

    return register


def message_contexts(messages: Iterable) -> dict[int, "dict | ContextMissing"]:
    """The registered providers' context for each message that has some (see above)."""
    batches: dict[ContextProvider, dict[int, object]] = {}
    for message in messages:
        for prefix, providers in _providers.items():
            if message.occasion.startswith(prefix):
                for provider in providers:
                    batches.setdefault(provider, {})[message.pk] = message
    contexts: dict[int, dict | ContextMissing] = {}
    for provider, batch in batches.items():
        for message_id, context in provider(list(batch.values())).items():
            previous = contexts.get(message_id, {})
            if isinstance(context, ContextMissing) or isinstance(previous, ContextMissing):
                contexts[message_id] = context if isinstance(context, ContextMissing) else previous
            else:
                contexts[message_id] = {**previous, **context}
    return contexts


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
