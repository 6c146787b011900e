"""The nightly points expiry on a real worker: delivered twice, it expires each lot once."""

from datetime import date

import pytest

from loyalty.models import PointsEntry
from loyalty.services.ledger import account_get_or_create, credit
from loyalty.tasks import points_expire_task
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.integration


def test_expiry_runs_on_a_real_worker_and_a_second_delivery_changes_nothing(
    celery_worker_process,
):
    account = account_get_or_create(
        customer_id=CustomerFactory().pk, program_id=ProgramFactory(code="bank").pk
    )
    for key, points, expires_on in [
        ("old", 40, date(2026, 3, 1)),
        ("due", 25, date(2026, 6, 1)),
        ("later", 100, date(2027, 6, 1)),
    ]:
        credit(account=account, kind="earn", points=points, key=key, expires_on=expires_on)

    first = points_expire_task.delay(as_of="2026-06-01").get(timeout=60)
    second = points_expire_task.delay(as_of="2026-06-01").get(timeout=60)

    assert (first["lots"], first["points"]) == (2, 65)
    assert (second["lots"], second["points"]) == (0, 0)
    account.refresh_from_db()
    assert account.balance == 100
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.EXPIRE).count() == 2
