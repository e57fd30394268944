"""Domain signals the donor side sends after commit. ``impact`` listens and folds; no logic lives in receivers."""

from django.dispatch import Signal

# Sent after commit when kilograms of a batch were allocated to e-Resource commitments, with: batch_id, covered
# (the ids of the commitments the allocation covered).
e_resource_allocated = Signal()
