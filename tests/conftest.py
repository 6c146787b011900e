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
