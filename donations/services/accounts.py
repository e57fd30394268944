"""Donations' services: accounts."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from donations.models import Donor
from hubs.accounts import (
    AccountError,
    account_create,
    email_is_verified,
    invitation_create,
    invitation_pending_list,
    invitation_revoke,
)
from hubs.models import Invitation

from .common import DONOR_INVITATION, DonationError, normalise_registration_number


def donor_sign_up(
    *,
    legal_name: str,
    registration_number: str,
    country: str,
    address: str,
    email: str,
    password: str | None,
    contact_name: str = "",
    contact_phone: str = "",
    username: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Donor, AbstractBaseUser]:
    """Register a donor organisation and its first user, both or neither.

    The user signs in with the e-mail address (one account per address); ``username`` is only for accounts
    people already know by name (the demo's). The address still has to be verified before the first pledge.
    """
    with transaction.atomic():
        donor = Donor.objects.create(
            legal_name=legal_name,
            registration_number=normalise_registration_number(registration_number),
            country=country.upper(),
            address=address,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )
        try:
            user = account_create(
                email=email, password=password, first_name=first_name, last_name=last_name, username=username
            )
        except AccountError as exc:
            raise DonationError(str(exc)) from exc
        donor.users.add(user)
    return donor, user


def donor_user_may_pledge(*, user: AbstractBaseUser) -> bool:
    """A donor's user pledges once their e-mail address is verified (the hub must be able to reach them)."""
    return email_is_verified(user=user)


def donor_invite_colleague(*, donor: Donor, actor: AbstractBaseUser, email: str, request=None) -> Invitation:
    """E-mail a colleague a link to join the organisation; they choose their password on accepting."""
    if not donor.users.filter(pk=actor.pk).exists():
        raise DonationError(_("Only the organisation's own users can invite colleagues."))
    if donor.users.filter(email__iexact=email.strip()).exists():
        raise DonationError(_("%(email)s is already a user of %(org)s.") % {"email": email, "org": donor.legal_name})
    return invitation_create(kind=DONOR_INVITATION, target_id=donor.pk, email=email, invited_by=actor, request=request)


def donor_member_remove(*, donor: Donor, actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
    """Take a user off the organisation: they no longer see its donations. The last user cannot leave."""
    with transaction.atomic():
        locked = Donor.objects.select_for_update().get(pk=donor.pk)
        members = set(locked.users.values_list("pk", flat=True))
        if actor.pk not in members or user.pk not in members:
            raise DonationError(_("Only the organisation's own users can remove its users."))
        if members == {user.pk}:
            raise DonationError(
                _(
                    "You are the organisation's last user: invite a colleague before you leave, "
                    "so someone can follow its donations."
                )
            )
        locked.users.remove(user)


def donor_invitation_revoke(*, donor: Donor, actor: AbstractBaseUser, invitation_id: int) -> None:
    if not donor.users.filter(pk=actor.pk).exists():
        raise DonationError(_("Only the organisation's own users can withdraw its invitations."))
    invitation = invitation_pending_list(kind=DONOR_INVITATION, target_id=donor.pk).filter(pk=invitation_id).first()
    if invitation is None:
        raise DonationError(_("This invitation was already accepted or withdrawn."))
    invitation_revoke(invitation=invitation)


def donor_invitation_accept(invitation: Invitation, user: AbstractBaseUser) -> None:
    """What accepting a "donor" invitation does (registered with hubs.accounts in the app's ready())."""
    Donor.objects.get(pk=invitation.target_id).users.add(user)


def donor_describe(donor_id: int) -> str:
    return Donor.objects.filter(pk=donor_id).values_list("legal_name", flat=True).first() or ""
