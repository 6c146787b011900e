"""Settings of the server bench.feedback starts: the project's, served over plain HTTP on
loopback (production terminates TLS in front). The per-IP limit of public form posts is
raised by the bench's environment: every simulated customer comes from 127.0.0.1."""

from config.settings.base import *  # noqa: F403

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
SECURE_SSL_REDIRECT = False
