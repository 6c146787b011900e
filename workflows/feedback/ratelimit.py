"""Rate limits of the public form's posts: per IP address and per personal link, per minute.

Counted in Django's cache with `add` (creates the counter with its one-minute expiry, only if
missing) then `incr`: both atomic on Redis, so concurrent posts cannot all read "under the
limit" (DRF's throttles read then write, and race). LocMem counts per process, which is fine
for `make run`; production sets CACHE_URL to Redis. Keys hold a digest, never the token.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

PERIOD_SECONDS = 60


def _cache_key(scope: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"workflows:feedback:posts:{scope}:{digest}"


def post_allowed(*, scope: str, value: str, limit: int) -> bool:
    """Count one post for (scope, value); False once more than `limit` were counted within the
    counter's minute."""
    key = _cache_key(scope, value)
    cache.add(key, 0, PERIOD_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, PERIOD_SECONDS)
        count = 1
    return count <= limit


def client_ip(request) -> str:
    """REMOTE_ADDR: the project sets no trusted proxy, so X-Forwarded-For could be forged."""
    return request.META.get("REMOTE_ADDR", "")


def feedback_post_allowed(request, *, token: str = "") -> bool:
    """The public form's limits: WORKFLOWS_FEEDBACK_POSTS_PER_IP per IP address and
    WORKFLOWS_FEEDBACK_POSTS_PER_TOKEN per personal link, per minute."""
    if not post_allowed(
        scope="ip", value=client_ip(request), limit=settings.WORKFLOWS_FEEDBACK_POSTS_PER_IP
    ):
        return False
    return not token or post_allowed(
        scope="token", value=token, limit=settings.WORKFLOWS_FEEDBACK_POSTS_PER_TOKEN
    )
