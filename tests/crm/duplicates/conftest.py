import pytest

from tests.factories import make_supervisor


@pytest.fixture
def foreign_supervisor(other_team):
    """Supervises another team: sees none of `team`'s customers."""
    return make_supervisor(other_team, username="sup_zhao")
