"""Phones and e-mails masked in every admin list, admin export and API list for a user without
`crm.view_customer_contact` (PIPL; GB/T 35273 §7.2 de-identified display)."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from crm import roles
from crm.models import TeamMembership
from tests.crm.privacy.data import EMAIL, PHONE_DIGITS, customer_with_everything
from tests.factories import UserFactory

# The full number with or without +86 (the digits contain the national form).
LEAKS = (PHONE_DIGITS, EMAIL)


@pytest.fixture
def masked_rm(team):
    """An RM with every permission of the role except seeing contacts whole."""
    user = UserFactory(username="rm_masked")
    permissions = Group.objects.get(name=roles.RELATIONSHIP_MANAGER).permissions.exclude(
        codename="view_customer_contact", content_type__app_label="crm"
    )
    user.user_permissions.set(permissions)
    TeamMembership.objects.create(team=team, user=user)
    assert not user.has_perm("crm.view_customer_contact")
    return user


def _changelists(user) -> list[str]:
    urls = []
    for model in admin.site._registry:
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}") and not user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        ):
            continue
        try:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        except NoReverseMatch:
            continue
    return urls


@pytest.mark.django_db
def test_no_admin_list_shows_a_whole_phone_or_email(client, masked_rm):
    customer = customer_with_everything(masked_rm)
    client.force_login(masked_rm)
    urls = _changelists(masked_rm)
    assert len(urls) > 20  # crm, loyalty and workflows lists are walked

    leaks = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        found = [leak for leak in LEAKS if leak in page]
        if found:
            leaks[url] = found
    assert leaks == {}
    # The walk saw the customer and their masked contacts.
    page = client.get(reverse("admin:crm_customer_changelist")).content.decode()
    assert customer.name in page
    assert "139****5678" in page


@pytest.mark.django_db
def test_customer_page_and_history_do_not_show_them_either(client, masked_rm):
    customer = customer_with_everything(masked_rm)
    client.force_login(masked_rm)

    for name in ("admin:crm_customer_change", "admin:crm_customer_history"):
        page = client.get(reverse(name, args=[customer.pk])).content.decode()
        assert not [leak for leak in LEAKS if leak in page], name


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["customer", "transaction"])
def test_admin_exports_mask_them(client, masked_rm, model):
    customer_with_everything(masked_rm)
    client.force_login(masked_rm)

    response = client.post(
        reverse(f"admin:crm_{model}_export"), {"format": "0", "export_items": []}
    )

    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.count("\n") >= 2  # a header and at least one row
    assert not [leak for leak in LEAKS if leak in text]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/feedback/responses/"])
def test_api_lists_mask_them(masked_rm, url):
    customer_with_everything(masked_rm)
    api = APIClient()
    api.force_authenticate(masked_rm)

    response = api.get(url)

    assert response.status_code == 200
    text = response.content.decode()
    assert '"results"' in text or text.startswith("[")
    assert not [leak for leak in LEAKS if leak in text]


def test_masked_rm_fixture_drops_only_the_contact_permission():
    # A guard on the test itself: the RM role holds the permission the fixture removes.
    from crm.roles import ROLE_PERMISSIONS

    assert "crm.view_customer_contact" in ROLE_PERMISSIONS[roles.RELATIONSHIP_MANAGER]


@pytest.fixture
def masked_supervisor(team):
    """A supervisor with every permission of the role except seeing contacts whole."""
    user = UserFactory(username="sup_masked")
    permissions = Group.objects.get(name=roles.SUPERVISOR).permissions.exclude(
        codename="view_customer_contact", content_type__app_label="crm"
    )
    user.user_permissions.set(permissions)
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.SUPERVISOR)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(("can_see", "shown"), [(False, "139****5678"), (True, PHONE_DIGITS)])
def test_import_refusals_mask_contacts_unless_allowed(
    client, masked_supervisor, supervisor, can_see, shown
):
    from crm.models import ImportJob, ImportRowError, Source

    user = supervisor if can_see else masked_supervisor
    job = ImportJob.objects.create(
        source=Source.SHOP,
        kind=ImportJob.Kind.CUSTOMERS,
        file="imports/x.csv",
        original_name="x.csv",
        status=ImportJob.Status.DONE,
        rows_refused=1,
        created_by=user,
    )
    ImportRowError.objects.create(
        job=job, row_number=2, column="email", value=f"{PHONE_DIGITS} {EMAIL}", reason="bad"
    )
    client.force_login(user)

    page = client.get(reverse("admin:crm_importjob_change", args=[job.pk])).content.decode()
    response = client.get(reverse("admin:crm_importjob_refused", args=[job.pk]))
    csv_text = b"".join(response.streaming_content).decode("utf-8-sig")

    for text in (page, csv_text):
        assert shown in text
        assert (EMAIL in text) is can_see
