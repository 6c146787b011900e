"""The demo teams, staff users with their role groups and team memberships, and the manual tags."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count

from crm import roles
from crm.models import Tag, Team, TeamMembership
from crm.services.demo_data.summary import DemoDataSummary
from crm.services.demo_data.vocabulary import (
    CUSTOMERS_PER_RM,
    CUSTOMERS_PER_TEAM,
    DEMO_PASSWORD,
    MANUAL_TAGS,
    TEAM_NAMES,
)


@dataclass
class _Staff:
    rm_ids: list[int]
    team_of: dict[int, int]  # RM id -> team id


def _staff_ensure(*, customers: int, summary: DemoDataSummary) -> _Staff:
    """Teams, the three demo logins, a supervisor per team and one RM per 2,000 customers.

    Staff who are already in a team are left as they are, so a rerun costs three queries.
    """
    team_count = max(2, math.ceil(customers / CUSTOMERS_PER_TEAM))
    rm_count = max(team_count + 1, math.ceil(customers / CUSTOMERS_PER_RM))
    teams = [_team_ensure(index, summary) for index in range(team_count)]
    supervisors = ["supervisor"] + [f"supervisor{index + 1}" for index in range(1, team_count)]
    rm_names = [f"rm{number}" for number in range(1, rm_count + 1)]
    placed = _team_memberships(supervisors + rm_names)

    for index, (username, team) in enumerate(zip(supervisors, teams, strict=True)):
        if username not in placed:
            _staff_user_create(
                username=username,
                team=team,
                role=TeamMembership.Role.SUPERVISOR,
                demo_login=index == 0,
            )
            summary.add("staff users", 1)
    rm_counts = dict(
        TeamMembership.objects.filter(team__in=teams, role=TeamMembership.Role.RELATIONSHIP_MANAGER)
        .values_list("team_id")
        .annotate(n=Count("id"))
    )
    for number, username in enumerate(rm_names, start=1):
        if username in placed:
            continue
        if number <= 2:
            team = teams[0]
        else:
            # A new RM joins the team with the fewest RMs, so teams stay about the same size.
            team = min(teams, key=lambda t: (rm_counts.get(t.pk, 0), teams.index(t)))
        _staff_user_create(
            username=username,
            team=team,
            role=TeamMembership.Role.RELATIONSHIP_MANAGER,
            demo_login=number <= 2,
        )
        summary.add("staff users", 1)
        rm_counts[team.pk] = rm_counts.get(team.pk, 0) + 1

    placed = _team_memberships(rm_names)
    rm_ids = [placed[name][0] for name in rm_names]
    return _Staff(rm_ids=rm_ids, team_of=dict(placed[name] for name in rm_names))


def _team_memberships(usernames: list[str]) -> dict[str, tuple[int, int]]:
    """username -> (user id, team id) for those of the users who are in a team."""
    memberships = TeamMembership.objects.filter(user__username__in=usernames).values_list(
        "user__username", "user_id", "team_id"
    )
    return {name: (user_id, team_id) for name, user_id, team_id in memberships}


def _team_ensure(index: int, summary: DemoDataSummary) -> Team:
    name = TEAM_NAMES[index] if index < len(TEAM_NAMES) else f"第{index + 1}支行"
    team, created = Team.objects.get_or_create(name=name)
    summary.add("teams", int(created))
    return team


def _role_group(name: str) -> Group:
    if not Group.objects.filter(name=name).exists():
        roles.sync_role_groups()
    return Group.objects.get(name=name)


@transaction.atomic
def _staff_user_create(*, username: str, team: Team, role: str, demo_login: bool) -> None:
    """One staff user in one team and its role's group; only the demo logins can sign in."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    if demo_login:
        user.set_password(DEMO_PASSWORD)
    else:
        user.set_unusable_password()
    user.save(update_fields=["is_staff", "password"])
    group_name = (
        roles.SUPERVISOR if role == TeamMembership.Role.SUPERVISOR else roles.RELATIONSHIP_MANAGER
    )
    user.groups.add(_role_group(group_name))
    TeamMembership.objects.create(team=team, user=user, role=role)


def _tags_ensure(*, summary: DemoDataSummary) -> list[tuple[int, int]]:
    """The manual tags with their share of customers (per mille)."""
    result = []
    for name, description, share in MANUAL_TAGS:
        tag, created = Tag.objects.get_or_create(
            name=name, defaults={"kind": Tag.Kind.MANUAL, "description": description}
        )
        summary.add("tags", int(created))
        result.append((tag.pk, share))
    return result
