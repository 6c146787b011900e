import pytest
from django.contrib.auth.models import Permission

from tests.factories import make_supervisor


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    # Django caches permissions on the user object.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def eraser(team):
    """A supervisor of `team` given the dedicated erasure permission."""
    return grant(make_supervisor(team, username="dpo_sun"), "erase_customer")


@pytest.fixture
def foreign_supervisor(other_team):
    return make_supervisor(other_team, username="sup_other")


def queries_of(action) -> int:
    """The number of SQL statements `action()` runs (counted at the cursor, so a request's
    reset of `connection.queries` cannot hide any)."""
    from django.db import connection

    statements: list[str] = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        action()
    assert statements, "nothing was counted"
    return len(statements)
