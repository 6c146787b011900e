from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crm.models import Consent
from tests.factories import ConsentFactory, CustomerFactory
from workflows.models import Message

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday noon in Shanghai: outside quiet hours.
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def outbox_file(settings, tmp_path):
    settings.WORKFLOWS_OUTBOX_FILE = str(tmp_path / "outbox.log")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return tmp_path / "outbox.log"


@pytest.fixture
def noon(time_machine):
    time_machine.move_to(NOON, tick=False)
    return NOON


def consenting_customer(*, channels=("sms",), purposes=("marketing", "service"), **kwargs):
    customer = CustomerFactory(**kwargs)
    for channel in channels:
        for purpose in purposes:
            ConsentFactory(customer=customer, channel=channel, purpose=purpose)
    return customer


def sent_ids(path) -> list[int]:
    if not path.exists():
        return []
    return [int(line.split("\t", 1)[0]) for line in path.read_text().splitlines() if line]


def state_of(message: Message) -> tuple[str, str]:
    message.refresh_from_db()
    return message.state, message.refusal


__all__ = ["Consent", "consenting_customer", "sent_ids", "state_of"]
