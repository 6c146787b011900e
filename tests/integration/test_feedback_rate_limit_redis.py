"""The public form's rate limit on Redis, as in production: concurrent posts from one address
are counted atomically (INCR), so exactly the limit gets through."""

import threading
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from workflows.feedback.ratelimit import post_allowed

pytestmark = pytest.mark.integration

REDIS_CACHE = "redis://127.0.0.1:6379/13"


def test_forty_concurrent_posts_from_one_address_let_exactly_the_limit_through():
    cache_settings = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE,
            # A run of its own: parallel test processes share the Redis server.
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=cache_settings):
        caches["default"].get("probe")  # fails here, clearly, if Redis is not running
        start = threading.Barrier(40)
        allowed: list[bool] = []

        def post() -> None:
            start.wait()
            allowed.append(post_allowed(scope="ip", value="198.51.100.7", limit=10))

        threads = [threading.Thread(target=post) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert allowed.count(True) == 10
    assert allowed.count(False) == 30
