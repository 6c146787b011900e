"""The API counts requests per token in Django's cache; over the rate: 429 with Retry-After."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory

URL = "/api/v1/customers/"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _client_with_token(user) -> APIClient:
    _token, key = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
@override_settings(API_THROTTLE_RATE="3/minute")
def test_over_the_rate_a_token_gets_429_with_retry_after():
    user = UserFactory(username="shop_system")
    client = _client_with_token(user)
    for _ in range(3):
        assert client.get(URL).status_code == 200
    response = client.get(URL)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60

    # Another token, even of the same user, has its own count.
    assert _client_with_token(user).get(URL).status_code == 200
    assert _client_with_token(UserFactory(username="bank_core")).get(URL).status_code == 200


@pytest.mark.django_db
@override_settings(API_ANON_THROTTLE_RATE="2/minute")
def test_requests_without_credentials_have_their_own_lower_rate():
    """Counted per address on what anyone may read (the schema); elsewhere a request without
    credentials gets its 401 before any counting."""
    client = APIClient()
    for _ in range(2):
        assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/schema/")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert client.get("/api/schema/", REMOTE_ADDR="10.1.2.3").status_code == 200


def test_the_rates_come_from_the_settings():
    from config.security import AnonymousRateThrottle, TokenRateThrottle

    assert TokenRateThrottle().get_rate() == settings.API_THROTTLE_RATE
    assert AnonymousRateThrottle().get_rate() == settings.API_ANON_THROTTLE_RATE
    with override_settings(API_THROTTLE_RATE="7/second"):
        assert TokenRateThrottle().num_requests == 7
