"""Settings of bench.outbox's workers for the run without the outbox's rules: the project's,
with the rules off, to measure what they cost. Nothing else can turn them off."""

from config.settings.base import *  # noqa: F403

WORKFLOWS_OUTBOX_RULES_OFF = True
