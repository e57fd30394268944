"""Donor sign-up and pledges. Devices are registered through the core's service."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from hubs.models import Hub
from refurbishing.errors import LifecycleError
from refurbishing.services import device_register_many

from .models import Donation, Donor


class DonationError(Exception):
    """A donor-side request that cannot be carried out, with a message the donor can act on."""


def donor_sign_up(
    *,
    legal_name: str,
    registration_number: str,
    country: str,
    address: str,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Donor, AbstractBaseUser]:
    """Register a donor organisation and its first user, both or neither."""
    User = get_user_model()
    with transaction.atomic():
        donor = Donor.objects.create(
            legal_name=legal_name,
            registration_number=registration_number.replace(" ", "").upper(),
            country=country.upper(),
            address=address,
        )
        user = User.objects.create_user(
            username=username, email=email, password=password, first_name=first_name, last_name=last_name
        )
        donor.users.add(user)
    return donor, user


def _next_reference(donation: Donation) -> str:
    return f"DON-{donation.pledged_at:%Y}-{donation.pk:06d}"


def donation_pledge(
    *,
    donor: Donor,
    hub: Hub,
    pickup_address: str,
    rows: Iterable[Mapping[str, Any]],
    actor: AbstractBaseUser | None,
    pickup_date=None,
    notes: str = "",
) -> Donation:
    """Create a donation and register its devices as pledged; nothing is saved if any row is refused."""
    rows = list(rows)
    if not rows:
        raise DonationError("A donation needs at least one device.")
    if not hub.active:
        raise DonationError(f"{hub.name} does not take donations at the moment; choose another hub.")
    try:
        with transaction.atomic():
            donation = Donation.objects.create(
                reference=f"PENDING-{timezone.now():%H%M%S%f}",
                donor=donor,
                hub=hub,
                pickup_address=pickup_address,
                pickup_date=pickup_date,
                notes=notes,
                created_by=actor,
            )
            donation.reference = _next_reference(donation)
            donation.save(update_fields=["reference"])
            device_register_many(donation=donation, hub=hub, actor=actor, rows=rows)
    except IntegrityError as exc:
        raise DonationError(
            "One of these devices is already registered (same manufacturer and serial number). "
            "Check the serial numbers and try again; nothing was saved."
        ) from exc
    except LifecycleError as exc:
        raise DonationError(exc.message) from exc
    return donation
