"""Security plumbing: API throttles, the client address for login lockouts, extra headers."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class TokenRateThrottle(UserRateThrottle):
    """`API_THROTTLE_RATE` requests per token (per user for a browser session), counted in
    Django's cache (Redis in production, so every web process shares the count). Over it: 429
    with `Retry-After`. The rate is read on every request, so a change needs no restart of the
    class (tests override it)."""

    scope = "token"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # AnonymousRateThrottle counts those
        token = request.auth
        ident = f"token-{token.pk}" if getattr(token, "pk", None) else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(AnonRateThrottle):
    """`API_ANON_THROTTLE_RATE` requests per client address without credentials (they all end
    in 401/403, but each one costs a request)."""

    def get_rate(self) -> str:
        return settings.API_ANON_THROTTLE_RATE


def client_ip(request) -> str:
    """The client's address for django-axes. Behind `DJANGO_TRUSTED_PROXIES` proxies, the
    address the nearest trusted proxy saw (counted from the right of `X-Forwarded-For`, which a
    client can prepend to but not append to); else `REMOTE_ADDR`. Without this, every login
    through a proxy would share the proxy's address and one guesser would lock out everyone."""
    proxies = settings.DJANGO_TRUSTED_PROXIES
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: `Permissions-Policy` (no camera, microphone,
    geolocation, payment, USB... for any page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login: a page that says why and for how long."""
    from axes.helpers import get_cool_off
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(
        request,
        "security/lockout.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


class BodySizeLimitMiddleware:
    """A body other than a multipart upload longer than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413
    before anything reads it. Django checks that limit only when it reads the body itself
    (forms); DRF's parsers read the stream directly, so a JSON body had no limit. Multipart
    uploads are left to Django's parser (which applies the same limit to their fields) and to
    each feature's file limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not request.content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                from django.http import JsonResponse

                return JsonResponse(
                    {"detail": f"The request body is larger than {limit} bytes."}, status=413
                )
        return self.get_response(request)
