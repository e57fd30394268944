"""Wipe verification by sampling (R2v3 / e-Stewards practice): the lot is a donation.

Once every storage-bearing device of a donation is wiped (or recycled, or missing), ``wipe_sample_pick`` draws a
sample of at least 5% of the lot's wiped media, at least one, for re-verification by a person other than the one
who wiped each of them. The draw is not a choice: a fresh random seed (``secrets``) is stored on the sample, and
the picks are the media whose SHA-256 of ``"<seed>:<key>"`` is smallest, over the lot's sorted keys
(``drive:<id>``, or ``device:<id>`` for a device wiped as a whole). Anyone can recompute it from the stored seed
and population (``sample_pick``).

The data sanitisation certificate waits for the sample. A failed re-verification fails the sample: every medium
of the lot must be wiped again (``hardware.lots``: older wipes stop counting), each device still at the hub gets
a ``rewipe_required`` event and the data security guard holds it until re-wiped; the next complete lot draws a
new sample (next round, new seed). A passed sample is listed on the certificate.
"""

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.selectors import user_can_act_in_hub
from refurbishing.errors import LifecycleError
from refurbishing.hardware.lots import device_wipe_counts, drive_wipe_counts
from refurbishing.models import Device, DeviceState, Drive, DriveSanitisation, SanitisationRecord
from refurbishing.models.sampling import WipeSample, WipeSampleItem
from refurbishing.signals import wipe_sample_decided

SAMPLE_PERCENT = 5
# States in which a device is no longer at the hub to be wiped again.
GONE_STATES = (DeviceState.SHIPPED, DeviceState.DELIVERED, DeviceState.RECYCLED, DeviceState.MISSING)


def sample_size(population: int) -> int:
    """At least 5% of the lot, rounded up, and at least one (none of an empty lot)."""
    if population <= 0:
        return 0
    return max(1, math.ceil(population * SAMPLE_PERCENT / 100))


def sample_pick(*, seed: str, population: Sequence[str]) -> list[str]:
    """The picked keys, sorted: a pure function of the seed and the population (its order does not matter)."""
    keys = sorted(set(population))
    ranked = sorted(keys, key=lambda key: hashlib.sha256(f"{seed}:{key}".encode()).hexdigest())
    return sorted(ranked[: sample_size(len(keys))])


@dataclass(frozen=True)
class WipedMedium:
    key: str
    device_id: int
    drive_id: int | None
    serial: str
    operator_id: int
    wiped_at: datetime


def lot_media(*, donation_id: int) -> tuple[list[WipedMedium], list[Device]]:
    """The donation's media with a wipe that counts, and the storage-bearing devices with a medium lacking one."""
    drive_wipes = DriveSanitisation.objects.filter(drive_wipe_counts()).order_by("-recorded_at", "-id")
    device_wipes = SanitisationRecord.objects.filter(device_wipe_counts()).order_by("-completed_at", "-id")
    devices = (
        Device.objects.filter(donation_id=donation_id)
        .prefetch_related(
            Prefetch("drives", queryset=Drive.objects.order_by("id")),
            Prefetch("drives__sanitisations", queryset=drive_wipes),
            Prefetch("sanitisation_records", queryset=device_wipes),
        )
        .order_by("id")
    )
    media: list[WipedMedium] = []
    unwiped: list[Device] = []
    for device in devices:
        drives = list(device.drives.all())
        if drives:
            for drive in drives:
                wipe = next(iter(drive.sanitisations.all()), None)
                if wipe is None:
                    unwiped.append(device)
                    continue
                media.append(
                    WipedMedium(
                        f"drive:{drive.pk}", device.pk, drive.pk, wipe.drive_serial, wipe.operator_id, wipe.recorded_at
                    )
                )
        elif device.has_storage_media:
            record = next(iter(device.sanitisation_records.all()), None)
            if record is None:
                unwiped.append(device)
                continue
            media.append(
                WipedMedium(f"device:{device.pk}", device.pk, None, "", record.operator_id, record.completed_at)
            )
    return media, list(dict.fromkeys(unwiped))


def devices_awaiting_rewipe(*, donation_id: int) -> list[Device]:
    """Devices of the donation sent back by a failed sample and not wiped again yet (none if no sample failed)."""
    if not WipeSample.objects.filter(donation_id=donation_id, status=WipeSample.Status.FAILED).exists():
        return []
    _media, unwiped = lot_media(donation_id=donation_id)
    return [device for device in unwiped if device.state not in (DeviceState.RECYCLED, DeviceState.MISSING)]


def wipe_sample_current(*, donation_id: int) -> WipeSample | None:
    """The donation's latest sample (any status), or None."""
    return WipeSample.objects.filter(donation_id=donation_id).order_by("-round").first()


def wipe_sample_pick(*, donation_id: int, hub_id: int) -> WipeSample | None:
    """Draw the lot's sample, once; call it when the donation's every storage device is accounted for.

    Returns the open or passed sample of the current lot (the one already drawn, or a new one), or None when the
    lot has no wiped medium (nothing to sample). Never takes a person's input: the seed comes from ``secrets``.
    Called inside the caller's transaction, with the donation's row locked, so two calls draw one sample.
    """
    current = wipe_sample_current(donation_id=donation_id)
    if current is not None and current.status != WipeSample.Status.FAILED:
        return current
    media, _unwiped = lot_media(donation_id=donation_id)
    if not media:
        return None
    by_key = {medium.key: medium for medium in media}
    seed = secrets.token_hex(32)
    picked = sample_pick(seed=seed, population=list(by_key))
    last_round = WipeSample.objects.filter(donation_id=donation_id).aggregate(last=Max("round"))["last"] or 0
    try:
        with transaction.atomic():
            sample = WipeSample.objects.create(
                donation_id=donation_id,
                hub_id=hub_id,
                round=last_round + 1,
                seed=seed,
                population=sorted(by_key),
            )
            WipeSampleItem.objects.bulk_create(
                WipeSampleItem(
                    sample=sample,
                    key=key,
                    device_id=by_key[key].device_id,
                    drive_id=by_key[key].drive_id,
                    media_serial=by_key[key].serial,
                    wiped_by_id=by_key[key].operator_id,
                    wiped_at=by_key[key].wiped_at,
                )
                for key in picked
            )
    except IntegrityError:  # drawn a moment ago by a parallel call: that one stands
        return wipe_sample_current(donation_id=donation_id)
    return sample


def wipe_sample_item_verify(
    *,
    item: WipeSampleItem,
    actor: AbstractBaseUser,
    passed: bool,
    notes: str = "",
) -> WipeSampleItem:
    """Record the re-verification of one picked medium, by someone other than its wiper.

    Refused, with nothing written: the wiper themself, someone not working at the sample's hub, a sample already
    decided, a medium already re-verified. The last passed item passes the sample; a failed item fails it at once
    and sends the whole lot back to be wiped again (one transaction).
    """
    from refurbishing.services import device_sampling_event_record  # services import the lifecycle, which imports us

    with transaction.atomic():
        sample = WipeSample.objects.select_for_update().get(pk=item.sample_id)
        item = WipeSampleItem.objects.select_for_update().select_related("device").get(pk=item.pk)
        if not user_can_act_in_hub(user=actor, hub_id=sample.hub_id):
            raise LifecycleError(_("This wipe sample belongs to a hub you do not work at."), code="forbidden")
        if item.wiped_by_id == actor.pk:
            raise LifecycleError(_("You wiped this medium, so you cannot re-verify it: another person must check it."))
        if sample.status != WipeSample.Status.OPEN:
            raise LifecycleError(
                _("This wipe sample is already decided (%(status)s).") % {"status": sample.get_status_display()},
                code="conflict",
            )
        if item.result != WipeSampleItem.Result.PENDING:
            raise LifecycleError(_("This medium was already re-verified."), code="conflict")
        now = timezone.now()
        item.result = WipeSampleItem.Result.PASSED if passed else WipeSampleItem.Result.FAILED
        item.verified_by = actor
        item.verified_at = now
        item.notes = (notes or "").strip()
        item.save(update_fields=["result", "verified_by", "verified_at", "notes"])
        if not passed:
            _sample_fail(sample=sample, actor=actor, now=now, record_event=device_sampling_event_record)
        elif not sample.items.filter(result=WipeSampleItem.Result.PENDING).exists():
            sample.status = WipeSample.Status.PASSED
            sample.decided_at = now
            sample.save(update_fields=["status", "decided_at"])
        if sample.status != WipeSample.Status.OPEN:
            donation_id = sample.donation_id
            transaction.on_commit(lambda: wipe_sample_decided.send(sender=WipeSample, donation_id=donation_id))
    return item


def _sample_fail(*, sample: WipeSample, actor: AbstractBaseUser, now: datetime, record_event) -> None:
    sample.status = WipeSample.Status.FAILED
    sample.decided_at = now
    device_ids = sorted({int(key.split(":")[1]) for key in sample.population if key.startswith("device:")})
    drive_ids = [int(key.split(":")[1]) for key in sample.population if key.startswith("drive:")]
    device_ids = sorted(
        set(device_ids) | set(Drive.objects.filter(pk__in=drive_ids).values_list("device_id", flat=True))
    )
    requeued = 0
    gone = []
    for device in Device.objects.filter(pk__in=device_ids).order_by("id"):
        if device.state in GONE_STATES:
            # No longer at the hub: it cannot be wiped again here. Listed on the sample; the certificate waits.
            gone.append({"id": device.pk, "device": str(device), "state": device.state})
        record_event(
            device=device,
            action="rewipe_required",
            actor=actor,
            note=_("Wipe sample %(round)s failed: every medium of the donation must be wiped again.")
            % {"round": sample.round},
            data={"wipe_sample_id": sample.pk, "round": sample.round},
        )
        requeued += device.state not in GONE_STATES
    sample.requeued_devices = requeued
    sample.devices_already_gone = gone
    sample.save(update_fields=["status", "decided_at", "requeued_devices", "devices_already_gone"])


def device_rewipe_record(
    *,
    device: Device,
    actor: AbstractBaseUser,
    method: str,
    technique: str,
    tool: str,
    verification: str,
    tool_version: str = "",
) -> SanitisationRecord:
    """Record the new wipe of a device wiped as a whole (no known drive) that a failed sample sent back.

    Its drives' wipes, when it has known drives, are recorded per drive as always. The state is kept; a
    ``rewipe`` event joins the chain of custody.
    """
    from refurbishing.services import device_sampling_event_record, sanitisation_record_create

    with transaction.atomic():
        locked = Device.objects.select_for_update().get(pk=device.pk)
        if not user_can_act_in_hub(user=actor, hub_id=locked.hub_id):
            raise LifecycleError(_("%(device)s is at a hub you do not work at.") % {"device": locked}, code="forbidden")
        if locked.drives.exists():
            raise LifecycleError(
                _("%(device)s has known drives: record the new wipe of each drive.") % {"device": locked}
            )
        if locked.pk not in {d.pk for d in devices_awaiting_rewipe(donation_id=locked.donation_id)}:
            raise LifecycleError(
                _("%(device)s is not waiting to be wiped again after a failed wipe sample.") % {"device": locked}
            )
        if method not in SanitisationRecord.Method.values or verification not in SanitisationRecord.Verification.values:
            raise LifecycleError(
                _("Choose the wipe's method and verification."),
                field_errors={"method": [_("Choose a method.")], "verification": [_("Choose a verification.")]},
            )
        if not (technique or "").strip() or not (tool or "").strip():
            raise LifecycleError(
                _("Enter the technique and the tool of the new wipe."),
                field_errors={"technique": [_("Enter the technique.")], "tool": [_("Enter the tool.")]},
            )
        record = sanitisation_record_create(
            device=locked,
            operator=actor,
            method=method,
            technique=technique.strip(),
            tool=tool.strip(),
            tool_version=(tool_version or "").strip(),
            verification=verification,
            verified=True,
        )
        device_sampling_event_record(
            device=locked,
            action="rewipe",
            actor=actor,
            note="",
            data={"sanitisation_record_id": record.pk, "method": record.method},
        )
    return record


def wipe_sample_rows(sample: WipeSample) -> dict:
    """The sample as a certificate quotes it (a snapshot: the certificate never changes afterwards)."""
    items = list(sample.items.select_related("wiped_by", "verified_by").order_by("key"))
    return {
        "round": sample.round,
        "seed": sample.seed,
        "population": len(sample.population),
        "picked": len(items),
        "decided_at": sample.decided_at.isoformat() if sample.decided_at else "",
        "items": [
            {
                "key": item.key,
                "device_id": item.device_id,
                "media_serial": item.media_serial,
                "wiped_by": item.wiped_by.get_username(),
                "verified_by": item.verified_by.get_username() if item.verified_by else "",
                "verified_at": item.verified_at.isoformat() if item.verified_at else "",
            }
            for item in items
        ],
    }
