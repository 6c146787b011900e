"""Signals loyalty sends for other apps (webhooks...), so loyalty never imports them.

Each is sent inside the writing transaction with a lazy queryset of what was written: a
receiver that does not need it costs nothing, one that does reads it set-based.
"""

from django.dispatch import Signal

# `entries`: a QuerySet of the PointsEntry rows just posted (earned, redeemed, adjusted...).
points_posted = Signal()

# `changes`: a QuerySet of the MembershipChange rows just written (a run's, or one customer's).
membership_changes_recorded = Signal()
