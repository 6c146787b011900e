"""Report selectors read from the replica when one is configured (here: the test database
itself, as TEST MIRROR), and from default otherwise.

Transactional tests: the replica is another connection, which sees only committed rows (as a
real replica does)."""

from datetime import date

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from config.db import read_replica, replica_alias
from crm.models import Customer
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db(databases=["default", "replica"], transaction=True)


def _queries_on_each(function):
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        result = function()
    return result, len(on_default), len(on_replica)


@override_settings(DATABASE_READ_REPLICA="replica")
def test_reads_inside_read_replica_go_to_the_replica_and_writes_to_default():
    CustomerFactory()

    def read_and_write():
        with read_replica():
            assert replica_alias() == "replica"
            count = Customer.objects.count()
            CustomerFactory()  # a write is never routed to the replica
            return count

    count, on_default, on_replica = _queries_on_each(read_and_write)
    assert count == 1
    assert on_replica >= 1
    assert on_default >= 1
    assert replica_alias() == "default"  # outside the block again
    assert Customer.objects.count() == 2


def test_without_a_replica_everything_stays_on_default():
    CustomerFactory()

    def read():
        with read_replica():
            return Customer.objects.count()

    count, on_default, on_replica = _queries_on_each(read)
    assert (count, on_default, on_replica) == (1, 1, 0)


@override_settings(DATABASE_READ_REPLICA="replica")
def test_the_report_selectors_read_from_the_replica(supervisor, team):
    from loyalty.selectors import tier_distribution_get
    from workflows.feedback.dashboard import dashboard_filter, feedback_dashboard
    from workflows.tickets.reports import ticket_report

    program = ProgramFactory()
    first, last = date(2026, 1, 1), date(2026, 1, 31)
    for report in (
        lambda: ticket_report(user=supervisor, first=first, last=last),
        lambda: feedback_dashboard(user=supervisor, where=dashboard_filter(first=first, last=last)),
        lambda: tier_distribution_get(program=program, user=supervisor),
    ):
        _result, on_default, on_replica = _queries_on_each(report)
        assert on_replica >= 1
        assert on_default == 0
