"""Donations' services: check in (a hub receives what a donor pledged, scan by scan)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext as _

from donations.models import Donation
from hubs.selectors import restrict_to_user_hubs, user_can_act_in_hub
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, DeviceState
from refurbishing.selectors import (
    device_code_condition,
    device_counts_by_state,
    device_find_by_code,
    device_list_for_donation,
    device_list_unexpected_in_donation,
)
from refurbishing.services import (
    device_register_many,
    device_transition,
    device_update,
)


class CheckInOutcome:
    RECEIVED = "received"
    CLAIMED = "claimed"  # a device pledged without a serial (by quantity), received with the serial scanned
    UNEXPECTED = "unexpected"
    ALREADY_RECEIVED = "already_received"


@dataclass(frozen=True)
class CheckInResult:
    outcome: str
    device: Device
    message: str


@dataclass(frozen=True)
class CheckInSummary:
    expected: int
    received: int
    unexpected: int
    missing: int
    awaited: int


def donation_for_check_in(*, user: AbstractBaseUser, reference: str) -> Donation:
    """A donation being received at one of the user's hubs; ``Donation.DoesNotExist`` for any other."""
    queryset = restrict_to_user_hubs(Donation.objects.select_related("hub", "donor"), user=user)
    return queryset.get(reference=reference.strip())


def donation_check_in_summary(*, donation: Donation) -> CheckInSummary:
    counts = device_counts_by_state(queryset=device_list_for_donation(donation_id=donation.pk))
    total = sum(counts.values())
    unexpected = device_list_unexpected_in_donation(donation_id=donation.pk).count()
    missing = counts.get(DeviceState.MISSING, 0)
    awaited = counts.get(DeviceState.PLEDGED, 0)
    return CheckInSummary(
        expected=total - unexpected,
        received=total - missing - awaited,
        unexpected=unexpected,
        missing=missing,
        awaited=awaited,
    )


def _device_of_donation(*, donation: Donation, code: str) -> Device | None:
    matches = list(device_list_for_donation(donation_id=donation.pk).filter(device_code_condition(code))[:2])
    return matches[0] if matches else None


def donation_check_in_scan(
    *,
    donation: Donation,
    actor: AbstractBaseUser,
    scan: str,
    category: str = "",
    manufacturer: str = "",
    model: str = "",
) -> CheckInResult:
    """Receive the device a scanned serial, asset tag or label names, as part of the donation's check-in.

    A pledged device of the donation is received; one already received is reported and left alone; a code the
    donation does not know adds a device to it (category and make needed) and receives it, with an event that
    says it was not pledged. Every move goes through the lifecycle service, with its guards.
    """
    scan = scan.strip()
    if not scan:
        raise LifecycleError(_("Scan or type a serial number, asset tag or label code."), field_errors={"scan": []})
    if not user_can_act_in_hub(user=actor, hub_id=donation.hub_id):
        raise LifecycleError(
            _("%(reference)s is received at a hub you do not work at.") % {"reference": donation.reference},
            code="forbidden",
        )
    note = _("Checked in with donation %(reference)s.") % {"reference": donation.reference}
    device = _device_of_donation(donation=donation, code=scan)
    if device is not None:
        return _check_in_known(donation=donation, device=device, actor=actor, note=note)

    elsewhere = device_find_by_code(user=actor, code=scan)
    if elsewhere:
        raise LifecycleError(
            _("%(device)s belongs to donation %(other)s, not %(reference)s.")
            % {"device": elsewhere[0], "other": elsewhere[0].donation.reference, "reference": donation.reference}
        )
    claimed = _claim_pledged_without_serial(
        donation=donation, actor=actor, scan=scan, category=category, manufacturer=manufacturer, model=model
    )
    if claimed is not None:
        return claimed
    missing = {}
    if not category:
        missing["category"] = [_("Choose the category of the device that was not pledged.")]
    elif category not in Device.Category.values:
        missing["category"] = [_("Choose one of the categories offered.")]
    if not manufacturer.strip():
        missing["manufacturer"] = [_("Enter the make of the device that was not pledged.")]
    if missing:
        raise LifecycleError(
            _("%(scan)s is not on donation %(reference)s. To add it, give its category, make and model.")
            % {"scan": scan, "reference": donation.reference},
            code="unknown",
            field_errors=missing,
        )
    try:
        with transaction.atomic():
            (device,) = device_register_many(
                donation=donation,
                hub=donation.hub,
                actor=actor,
                rows=[
                    {
                        "category": category,
                        "manufacturer": manufacturer.strip(),
                        "model": model.strip(),
                        "serial_number": scan,
                    }
                ],
            )
            device = device_transition(
                device=device,
                action="receive",
                actor=actor,
                note=_("Not on the pledge: found in donation %(reference)s at check-in and added to it.")
                % {"reference": donation.reference},
                data={"check_in": donation.reference, "unexpected": True},
            )
    except IntegrityError:
        # Someone added the same serial a moment ago: it is known now.
        device = _device_of_donation(donation=donation, code=scan)
        if device is None:
            raise LifecycleError(
                _("A %(make)s device with serial number %(scan)s is already registered with another donation.")
                % {"make": manufacturer.strip(), "scan": scan}
            ) from None
        return _check_in_known(donation=donation, device=device, actor=actor, note=note)
    return CheckInResult(
        CheckInOutcome.UNEXPECTED,
        device,
        _("%(device)s was not pledged: added to %(reference)s and received.")
        % {"device": device, "reference": donation.reference},
    )


def _claim_pledged_without_serial(
    *, donation: Donation, actor: AbstractBaseUser, scan: str, category: str, manufacturer: str, model: str
) -> CheckInResult | None:
    """Receive a device the donor pledged by quantity ("10 monitors", no serials) for a serial it does not know.

    The scanned code becomes the serial of one still-awaited device of the donation without a serial, of the
    category given (or the only category such devices have), and of the model given where the pledge named one.
    None when no such device is waiting: the scan is then a device that was not pledged.
    """
    candidates = device_list_for_donation(donation_id=donation.pk).filter(state=DeviceState.PLEDGED, serial_number="")
    if category:
        candidates = candidates.filter(category=category)
    else:
        categories = set(candidates.order_by().values_list("category", flat=True).distinct()[:2])
        if len(categories) > 1:
            raise LifecycleError(
                _(
                    "%(scan)s is not on donation %(reference)s by its serial, and devices of several categories "
                    "were pledged without one: choose its category to check it in as one of them."
                )
                % {"scan": scan, "reference": donation.reference},
                code="unknown",
                field_errors={"category": [_("Choose the category of the scanned device.")]},
            )
    model = model.strip()
    manufacturer = manufacturer.strip()
    if model:
        candidates = candidates.filter(Q(model="") | Q(model__iexact=model))
    if manufacturer:
        candidates = candidates.filter(Q(manufacturer="") | Q(manufacturer__iexact=manufacturer))
    # A pledged device of the same model first, then one the pledge left without a model; the oldest first.
    candidates = candidates.annotate(
        same_model=Case(When(model__iexact=model, then=Value(0)), default=Value(1), output_field=IntegerField())
        if model
        else Value(1, output_field=IntegerField())
    ).order_by("same_model", "id")
    with transaction.atomic():
        # Two technicians scanning two serials at once each take a different device (PostgreSQL: SKIP LOCKED).
        device = candidates.select_for_update(skip_locked=True, of=("self",)).first()
        if device is None:
            return None
        fields: dict[str, str] = {"serial_number": scan}
        if model and not device.model:
            fields["model"] = model
        if manufacturer and not device.manufacturer:
            fields["manufacturer"] = manufacturer
        try:
            with transaction.atomic():
                device = device_update(device=device, actor=actor, fields=fields)
        except (ValidationError, IntegrityError):
            raise LifecycleError(
                _("A device with serial number %(scan)s is already registered: check the label and scan again.")
                % {"scan": scan}
            ) from None
        device = device_transition(
            device=device,
            action="receive",
            actor=actor,
            note=_("Pledged without a serial number: checked in with donation %(reference)s as serial %(scan)s.")
            % {"reference": donation.reference, "scan": scan},
            data={"check_in": donation.reference, "serial_recorded": scan},
        )
    return CheckInResult(
        CheckInOutcome.CLAIMED,
        device,
        _("%(device)s received: one of the devices pledged without a serial number, now recorded.")
        % {"device": device},
    )


def _check_in_known(*, donation: Donation, device: Device, actor: AbstractBaseUser, note: str) -> CheckInResult:
    if device.state == DeviceState.MISSING:
        raise LifecycleError(
            _("%(device)s was marked missing when the check-in closed. Record its arrival in the admin.")
            % {"device": device}
        )
    if device.state != DeviceState.PLEDGED:
        return CheckInResult(
            CheckInOutcome.ALREADY_RECEIVED, device, _("%(device)s was already received.") % {"device": device}
        )
    try:
        device = device_transition(
            device=device, action="receive", actor=actor, note=note, data={"check_in": donation.reference}
        )
    except LifecycleError as error:
        if error.code != "conflict":
            raise
        device.refresh_from_db()
        if device.state == DeviceState.PLEDGED:
            raise
        return CheckInResult(
            CheckInOutcome.ALREADY_RECEIVED, device, _("%(device)s was already received.") % {"device": device}
        )
    return CheckInResult(CheckInOutcome.RECEIVED, device, _("%(device)s received.") % {"device": device})


def donation_check_in_close(*, donation: Donation, actor: AbstractBaseUser) -> CheckInSummary:
    """End the check-in: every pledged device that did not arrive is marked missing (the donor sees it)."""
    if not user_can_act_in_hub(user=actor, hub_id=donation.hub_id):
        raise LifecycleError(
            _("%(reference)s is received at a hub you do not work at.") % {"reference": donation.reference},
            code="forbidden",
        )
    note = _("Never arrived: marked missing when the check-in of %(reference)s closed.") % {
        "reference": donation.reference
    }
    awaited = device_list_for_donation(donation_id=donation.pk).filter(state=DeviceState.PLEDGED)
    for device in awaited:
        try:
            device_transition(
                device=device, action="mark_missing", actor=actor, note=note, data={"check_in": donation.reference}
            )
        except LifecycleError as error:
            if error.code != "conflict":  # received by someone else meanwhile: it arrived after all
                raise
    return donation_check_in_summary(donation=donation)
