"""Request bodies are bounded: size in memory, number of fields and of files."""

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from crm.models import Transaction
from tests.factories import UserFactory


def test_every_limit_is_set_and_finite():
    assert 0 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 50 * 1024 * 1024
    assert 0 < settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert 0 < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 10_000
    assert 0 < settings.DATA_UPLOAD_MAX_NUMBER_FILES <= 100
    for feature_limit in (
        settings.CRM_IMPORT_MAX_BYTES,
        settings.LOYALTY_GRACE_MAX_FILE_BYTES,
        settings.WORKFLOWS_TICKET_ATTACHMENT_MAX_BYTES,
    ):
        assert feature_limit > 0


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_000)
def test_an_api_body_over_the_limit_is_a_413_and_changes_nothing():
    system_user = UserFactory(username="shop_system", is_staff=False)
    system_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_all_customers", "add_transaction"])
    )
    client = APIClient()
    client.force_authenticate(system_user)
    rows = [
        {"customer": 1, "external_id": f"T{n}", "amount": "1.00", "currency": "CNY"}
        for n in range(100)
    ]
    body = json.dumps({"source": "shop", "transactions": rows})
    assert len(body) > 2_000
    response = client.post("/api/v1/transactions/batch/", body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than 2000 bytes" in response.json()["detail"]
    assert Transaction.objects.count() == 0


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=50)
def test_a_form_with_too_many_fields_is_a_400(client, supervisor):
    client.force_login(supervisor)
    fields = {f"field{n}": "x" for n in range(60)}
    response = client.post(reverse("admin:crm_customer_changelist"), fields)
    assert response.status_code == 400


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=2)
def test_a_form_with_too_many_files_is_a_400(client, supervisor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(supervisor)
    files = {f"file{n}": SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(3)}
    response = client.post(reverse("admin:crm_customer_changelist"), files)
    assert response.status_code == 400
