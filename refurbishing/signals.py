"""Domain signals the core sends after a transition has committed.

The core imports no app above it; ``impact`` (and any later listener) connects here and queues its own
Celery task. Receivers must not hold business logic: they only schedule work by id.
"""

from django.dispatch import Signal

# Sent after commit with: event_id, device_id, donation_id, action, to_state, hub_id.
device_transitioned = Signal()

# Sent after commit when a recycling batch is dispatched to its downstream vendor (closed), with: batch_id, hub_id.
# The donor side listens to allocate the batch's kilograms to e-Resource commitments.
recycling_batch_dispatched = Signal()
# Sent after commit with: donation_id, when a wipe verification sample of that donation passed or failed.
wipe_sample_decided = Signal()
