"""django-axes locks a username out from one address after AXES_FAILURE_LIMIT wrong passwords."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "pw-for-tests-123"  # UserFactory's


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def staff(db):
    return UserFactory(username="teller")


@override_settings(AXES_FAILURE_LIMIT=3)
def test_wrong_passwords_lock_the_username_out_even_with_the_right_one(client, staff):
    for _ in range(2):
        response = _login(client, "teller", "wrong")
        assert response.status_code == 200  # the login form again, with its error
    response = _login(client, "teller", "wrong")
    assert response.status_code == 429
    response = _login(client, "teller", PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Login locked" in body
    assert "after 3 wrong passwords" in body
    assert "60 minutes" in body
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_other_users_and_other_addresses_are_not_locked_out(client, staff):
    UserFactory(username="colleague")
    for _ in range(3):
        _login(client, "teller", "wrong")
    assert _login(client, "teller", PASSWORD).status_code == 429

    response = _login(client, "colleague", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")

    client.logout()
    response = _login(client, "teller", PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_right_password_before_the_limit_clears_the_count(client, staff):
    for _ in range(2):
        _login(client, "teller", "wrong")
    assert _login(client, "teller", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        _login(client, "teller", "wrong")
    assert _login(client, "teller", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_axes_reset_lifts_the_lockout(client, staff):
    for _ in range(3):
        _login(client, "teller", "wrong")
    assert AccessAttempt.objects.filter(username="teller").exists()
    call_command("axes_reset_username", "teller")
    assert _login(client, "teller", PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=2, DJANGO_TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_forwarded_address_counts(client, staff):
    """Through one trusted proxy every request comes from the proxy's address: the lockout
    follows the client's address in X-Forwarded-For, not the proxy's."""
    for _ in range(2):
        client.post(
            reverse("admin:login"),
            {"username": "teller", "password": "wrong"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    attempt = AccessAttempt.objects.get(username="teller")
    assert attempt.ip_address == "203.0.113.7"
    response = client.post(
        reverse("admin:login"),
        {"username": "teller", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert response.status_code == 302
