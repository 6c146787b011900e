import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient


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
