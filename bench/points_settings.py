"""Settings of the server bench.points starts: the project's, DEBUG off (the bench sets
DJANGO_DEBUG=0 and a random DJANGO_SECRET_KEY), plus a bare endpoint (bench/points_urls.py)."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.points_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Plain HTTP on loopback: no redirect to HTTPS (production terminates TLS in front).
SECURE_SSL_REDIRECT = False
