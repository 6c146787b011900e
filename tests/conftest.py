import pytest

from tests.factories import TeamFactory, make_rm, make_supervisor


@pytest.fixture
def team(db):
    return TeamFactory(name="Pudong branch")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Xuhui branch")


@pytest.fixture
def rm(team):
    return make_rm(team, username="rm_li")


@pytest.fixture
def other_rm(team):
    return make_rm(team, username="rm_zhang")


@pytest.fixture
def supervisor(team):
    return make_supervisor(team, username="sup_wang")


@pytest.fixture
def foreign_rm(other_team):
    return make_rm(other_team, username="rm_chen")


@pytest.fixture(autouse=True)
def _no_webhook_subscriptions_cached():
    """Each test starts with an empty database, so nobody subscribes to webhooks: say so to the
    subscription cache (workflows.webhooks.emit), so query counts do not depend on whether an
    earlier test warmed it. Saving an endpoint drops it, as in production. The same for the
    trigger kinds of active care sequences (workflows.sequences.receivers)."""
    from workflows.sequences import receivers
    from workflows.webhooks import emit

    emit._cache.update(types=set(), at=float("inf"))
    receivers._cache.update(kinds=set(), at=float("inf"))
    yield
    emit._cache.update(types=set(), at=float("inf"))
    receivers._cache.update(kinds=set(), at=float("inf"))


@pytest.fixture(autouse=True)
def _empty_query_log():
    """Query counts slice the connection's query log, a deque of at most 9,000 entries: once
    an earlier test filled it (a test with DEBUG on, or a long capture), every later count
    would read 0. Each test starts with an empty log."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.queries_log.clear()
