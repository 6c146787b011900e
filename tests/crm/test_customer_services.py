"""Creating and changing customers through the services, with the assignment rules."""

import pytest
from django.core.exceptions import ValidationError

from crm.models import Customer
from crm.services.customers import customer_create, customer_update
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_rm_creates_a_customer_they_own_in_their_team(rm, team):
    customer = customer_create(actor=rm, name="赵敏", phone="+8613700137000")
    assert customer.owner == rm
    assert customer.team == team
    assert customer.history.first().history_user == rm


@pytest.mark.django_db
def test_rm_cannot_create_a_customer_for_another_rm(rm, other_rm):
    with pytest.raises(ValidationError) as error:
        customer_create(actor=rm, owner=other_rm, name="赵敏")
    assert error.value.error_dict["owner"][0].code == "owner_not_allowed"
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_supervisor_assigns_within_their_team_only(supervisor, rm, foreign_rm, other_team):
    customer = CustomerFactory(owner=rm)
    customer_update(actor=supervisor, customer_id=customer.pk, owner=rm)
    with pytest.raises(ValidationError):
        customer_update(actor=supervisor, customer_id=customer.pk, owner=foreign_rm)
    with pytest.raises(ValidationError):
        customer_update(actor=supervisor, customer_id=customer.pk, team=other_team)
    customer.refresh_from_db()
    assert customer.owner == rm


@pytest.mark.django_db
def test_update_keeps_history_with_reason(rm):
    customer = CustomerFactory(owner=rm, name="旧")
    customer_update(actor=rm, customer_id=customer.pk, name="新", reason="客户改名")
    latest = customer.history.first()
    assert (latest.name, latest.history_user, latest.history_change_reason) == (
        "新",
        rm,
        "客户改名",
    )


@pytest.mark.django_db
def test_update_refuses_bad_data_and_changes_nothing(rm):
    customer = CustomerFactory(owner=rm, email="a@example.com")
    with pytest.raises(ValidationError):
        customer_update(actor=rm, customer_id=customer.pk, email="not an e-mail")
    customer.refresh_from_db()
    assert customer.email == "a@example.com"


@pytest.mark.django_db
def test_role_groups_exist_after_migrate():
    from django.contrib.auth.models import Group

    from crm import roles

    rm_group = Group.objects.get(name=roles.RELATIONSHIP_MANAGER)
    supervisor_group = Group.objects.get(name=roles.SUPERVISOR)
    assert rm_group.permissions.filter(codename="view_customer").exists()
    assert supervisor_group.permissions.filter(codename="change_segment").exists()
    assert not rm_group.permissions.filter(codename="view_all_customers").exists()


@pytest.mark.django_db
def test_rm_cannot_leave_a_customer_without_an_rm(rm):
    customer = CustomerFactory(owner=rm)
    with pytest.raises(ValidationError) as error:
        customer_update(actor=rm, customer_id=customer.pk, owner=None)
    assert error.value.error_dict["owner"][0].code == "owner_not_allowed"


@pytest.mark.django_db
def test_supervisors_may_change_the_nightly_schedules_in_admin(client, supervisor):
    from django.urls import reverse

    client.force_login(supervisor)
    response = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    from crm.schedules import SCHEDULES

    assert response.status_code == 200
    listed = {task.name for task in response.context["cl"].result_list}
    assert {schedule.name for schedule in SCHEDULES} <= listed  # other apps add theirs
