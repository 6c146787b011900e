import pytest
from django.contrib.auth.models import Permission
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="crm", codename__in=codenames)
    )


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client(api_client):
    """Authenticates as a user with a knox token, as other systems do."""

    def authenticate(user) -> APIClient:
        _token, key = AuthToken.objects.create(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return api_client

    return authenticate


@pytest.fixture
def system_user(db):
    """An integration (the shop, core banking): sees every customer but not their contacts."""
    user = UserFactory(username="shop_system", is_staff=False)
    grant(user, "view_all_customers", "add_transaction", "add_customer", "change_customer")
    return user


@pytest.fixture
def feeding_rm(rm):
    """An RM who may also push transactions, for their own customers only."""
    grant(rm, "add_transaction")
    return rm
