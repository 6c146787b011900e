"""What feedback tells the rest of workflows, so that feedback imports none of it (tickets
follow up a dissatisfied answer). Receivers run inside the storing transaction: what they write
commits or rolls back with the response."""

from django.dispatch import Signal

# Sent once per stored response, with `response` (a FeedbackResponse, its invitation set when
# it answered a personal link).
feedback_response_stored = Signal()
