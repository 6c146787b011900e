import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from .base import *  # noqa: E402, F403
from .base import DATABASES, VAR_DIR  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
# whitenoise looks for the collected files at start-up; tests serve them from the apps.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that a real Celery worker in the integration tests sees the data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
# The replica alias of config/db.py, on the test database itself (TEST MIRROR): off unless a
# test turns it on with DATABASE_READ_REPLICA="replica" (tests/config/test_replica.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
# API throttling (config/security.py) is on in tests, at rates no test reaches: the locmem cache
# lives as long as the test process, and SQLite gives the next test's user the same id.
# tests/config/test_api_throttle.py lowers them to see the 429.
API_THROTTLE_RATE = "100000/minute"
API_ANON_THROTTLE_RATE = "100000/minute"
# Static files straight from the apps' folders (no collectstatic before the tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
