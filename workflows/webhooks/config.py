"""The webhook settings, read in one place with their defaults."""

from django.conf import settings


def max_attempts() -> int:
    """After this many failed attempts a delivery gives up."""
    return int(getattr(settings, "WORKFLOWS_WEBHOOK_MAX_ATTEMPTS", 8))


def timeout_seconds() -> float:
    """Connect and read timeout of one POST: short, a slow receiver must not hold a worker."""
    return float(getattr(settings, "WORKFLOWS_WEBHOOK_TIMEOUT_SECONDS", 5))


def backoff_base_seconds() -> int:
    return int(getattr(settings, "WORKFLOWS_WEBHOOK_BACKOFF_SECONDS", 60))


def backoff_cap_seconds() -> int:
    return int(getattr(settings, "WORKFLOWS_WEBHOOK_BACKOFF_CAP_SECONDS", 6 * 3600))


def stale_delivering_seconds() -> int:
    """A delivery "delivering" for longer than this lost its worker: it is posted again."""
    return int(getattr(settings, "WORKFLOWS_WEBHOOK_STALE_SECONDS", 10 * 60))


def batch_size() -> int:
    return int(getattr(settings, "WORKFLOWS_WEBHOOK_BATCH", 100))


def subscription_cache_seconds() -> float:
    return float(getattr(settings, "WORKFLOWS_WEBHOOK_SUBSCRIPTION_CACHE_SECONDS", 30))
