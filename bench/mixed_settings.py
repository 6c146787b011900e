"""Settings of the server bench.mixed starts: the project's, DEBUG off (the bench sets
DJANGO_DEBUG=0 and a random DJANGO_SECRET_KEY), with every API throttle rate raised so far
that the load (one token, hundreds of requests a second) measures the work, not the limit."""

from config.settings.base import *  # noqa: F403
from config.settings.base import REST_FRAMEWORK

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Plain HTTP on loopback: no redirect to HTTPS (production terminates TLS in front).
SECURE_SSL_REDIRECT = False
BENCH_THROTTLE_RATE = "1000000/s"
# The project's throttles (config/security.py) read these.
API_THROTTLE_RATE = BENCH_THROTTLE_RATE
API_ANON_THROTTLE_RATE = BENCH_THROTTLE_RATE
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(
        REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), BENCH_THROTTLE_RATE
    ),
}
