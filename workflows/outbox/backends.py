"""Channel backends behind one interface: `send(message)` returns the provider's id of the
message or raises. A backend is opened once per batch (`with backend:`), like Django's e-mail
connections, so a provider's session or a file is opened once, not once per message."""

import time
from pathlib import Path
from typing import Self

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

from workflows.models import Message
from workflows.models.outbox import Channel


class Backend:
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def send(self, message: Message, recipient: str) -> str:
        raise NotImplementedError


class FileBackend(Backend):
    """Appends one line per message, its id first, to WORKFLOWS_OUTBOX_FILE: the console
    backend of SMS, push and WeChat. Line-buffered, so a line is written before `send`
    returns and a worker killed afterwards cannot lose it: tests and the bench count sends
    (and duplicates) in this file."""

    def __enter__(self) -> Self:
        path = Path(settings.WORKFLOWS_OUTBOX_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", buffering=1, encoding="utf-8")
        self._delay = settings.WORKFLOWS_OUTBOX_FILE_DELAY_MS / 1000
        return self

    def __exit__(self, *exc_info) -> None:
        self._file.close()

    def send(self, message: Message, recipient: str) -> str:
        if self._delay:
            time.sleep(self._delay)
        body = message.body.replace("\n", " ")
        self._file.write(f"{message.pk}\t{message.channel}\t{recipient}\t{body}\n")
        return f"file:{message.pk}"


class DjangoEmailBackend(Backend):
    """E-mail through Django's configured backend (EMAIL_URL; django-anymail for providers).
    The message id travels in a header, so a provider's log can be matched to the outbox."""

    def __enter__(self) -> Self:
        self._connection = get_connection()
        self._connection.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self._connection.close()

    def send(self, message: Message, recipient: str) -> str:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            to=[recipient],
            connection=self._connection,
            headers={"X-Outbox-Message-Id": str(message.pk)},
        )
        email.send()
        anymail_status = getattr(email, "anymail_status", None)
        return str(getattr(anymail_status, "message_id", "") or f"email:{message.pk}")


_SETTINGS = {
    Channel.EMAIL: "WORKFLOWS_EMAIL_BACKEND",
    Channel.SMS: "WORKFLOWS_SMS_BACKEND",
    Channel.PUSH: "WORKFLOWS_PUSH_BACKEND",
    Channel.WECHAT: "WORKFLOWS_WECHAT_BACKEND",
}


def backend_for(channel: str) -> Backend:
    """A new backend of the channel's configured class (call tasks have none: they go to the
    RM's task list)."""
    return import_string(getattr(settings, _SETTINGS[Channel(channel)]))()
