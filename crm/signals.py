"""What crm tells other apps, so that it never imports them (apps depend one way: loyalty ->
crm). Receivers run inside the writing transaction: what they write commits or rolls back with
the rows they were told about.
"""

from django.dispatch import Signal

# Sent once per written batch (an API batch, an import chunk) with `transaction_ids`: the ids of
# the rows this batch inserted, never rows stored before (a batch sent twice sends none).
transactions_stored = Signal()

# Sent when interactions are recorded or changed, with `interaction_ids`.
interactions_stored = Signal()
