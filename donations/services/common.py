"""Donations' services: common."""

DONOR_INVITATION = "donor"


CERTIFICATE_PREFIX = "CTG-"


class DonationError(Exception):
    """A donor-side request that cannot be carried out, with a message the donor can act on."""


def normalise_registration_number(value: str) -> str:
    """Registration numbers are stored without spaces, in capitals; the sign-up form checks uniqueness on this."""
    return value.replace(" ", "").upper()
