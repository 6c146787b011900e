"""Token authentication for other systems, the token command, and the OpenAPI schema."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from tests.factories import CustomerFactory, UserFactory

CUSTOMERS = "/api/v1/customers/"


@pytest.mark.django_db
def test_token_from_the_command_authenticates_api_calls(api_client, rm):
    customer = CustomerFactory(owner=rm)
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "rm_li", stdout=out, stderr=err)
    key = out.getvalue().strip()

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api_client.get(CUSTOMERS)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [customer.pk]
    assert AuthToken.objects.get().user == rm
    assert key not in err.getvalue()


@pytest.mark.django_db
def test_token_with_days_expires(rm):
    call_command("create_api_token", "rm_li", "--days", "30", stdout=StringIO(), stderr=StringIO())

    token = AuthToken.objects.get()
    assert abs(token.expiry - token.created - timedelta(days=30)) < timedelta(minutes=1)


@pytest.mark.django_db
def test_command_refuses_unknown_or_inactive_users():
    UserFactory(username="gone", is_active=False)

    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "nobody", stdout=StringIO())
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "gone", stdout=StringIO())
    assert not AuthToken.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Token wrong", "Token", "Bearer abc"])
def test_bad_or_missing_token_gets_401(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert api_client.get(CUSTOMERS).status_code == 401


@pytest.mark.django_db
def test_token_of_an_inactive_user_gets_401(api_client, rm):
    _token, key = AuthToken.objects.create(user=rm)
    rm.is_active = False
    rm.save(update_fields=["is_active"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api_client.get(CUSTOMERS).status_code == 401


@pytest.mark.django_db
def test_openapi_schema_is_valid_without_warnings(tmp_path):
    path = tmp_path / "schema.json"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )

    schema = json.loads(path.read_text())
    assert {"/api/v1/customers/", "/api/v1/transactions/batch/"} <= set(schema["paths"])
    batch = schema["paths"]["/api/v1/transactions/batch/"]["post"]
    assert "all or nothing" in batch["description"]


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
