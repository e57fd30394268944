"""Which wipes still count for a lot (a donation's wiped media) once a wipe verification sample of it failed.

A failed sample (``refurbishing.hardware.sampling``) sends every medium of its donation back to be wiped again:
from then on only a wipe recorded after the failure counts, for the lifecycle's data security guard, for the
certificate and for the next sample. Read here as a subquery, so a guard asks in the same single query as before.
"""

from datetime import UTC, datetime

from django.db.models import DateTimeField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from refurbishing.models.sampling import WipeSample

# Before any wipe a platform records: a lot with no failed sample keeps every wipe.
NO_FAILURE = datetime(2000, 1, 1, tzinfo=UTC)


def failed_sample_cutoff(donation_ref: OuterRef | str = "device__donation_id") -> Coalesce:
    """When the donation's latest failed sample was decided (``NO_FAILURE`` when none failed), as an expression."""
    latest = (
        WipeSample.objects.filter(donation_id=OuterRef(donation_ref), status=WipeSample.Status.FAILED)
        .order_by("-decided_at")
        .values("decided_at")[:1]
    )
    return Coalesce(Subquery(latest), Value(NO_FAILURE), output_field=DateTimeField())


def drive_wipe_counts(*, donation_ref: str = "drive__device__donation_id") -> Q:
    """On ``DriveSanitisation``: a verified wipe recorded after the lot's last failed sample."""
    return Q(verified=True, recorded_at__gt=failed_sample_cutoff(donation_ref))


def device_wipe_counts(*, donation_ref: str = "device__donation_id") -> Q:
    """On ``SanitisationRecord``: a verified record completed after the lot's last failed sample."""
    return Q(verified=True, completed_at__gt=failed_sample_cutoff(donation_ref))
