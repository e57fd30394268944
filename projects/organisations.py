"""Beneficiary organisations: sign-up by e-mail, verification, and colleagues invited or removed.

The account machinery is the platform's own (hubs.accounts, shared with donors); this module says what it means
for a beneficiary organisation. Its users coordinate its projects: they see every project that carries the
organisation's name, and they may apply once their e-mail address is verified.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hubs.accounts import (
    AccountError,
    account_create,
    email_is_verified,
    invitation_create,
    invitation_pending_list,
    invitation_revoke,
)
from hubs.models import Invitation

from .models import BeneficiaryOrganisation

BENEFICIARY_INVITATION = "beneficiary"


class OrganisationError(Exception):
    """A sign-up or team change that cannot be made, with a message the person can act on."""


def beneficiary_sign_up(
    *,
    name: str,
    country: str,
    place: str,
    contact_name: str,
    contact_phone: str,
    email: str,
    password: str | None,
) -> tuple[BeneficiaryOrganisation, AbstractBaseUser]:
    """Register a beneficiary organisation and its first user, both or neither; the user signs in by e-mail."""
    with transaction.atomic():
        organisation = BeneficiaryOrganisation.objects.create(
            name=name.strip(),
            country=country.upper(),
            place=place.strip(),
            contact_name=contact_name.strip(),
            contact_phone=contact_phone,
        )
        try:
            user = account_create(email=email, password=password)
        except AccountError as exc:
            raise OrganisationError(str(exc)) from exc
        organisation.users.add(user)
    return organisation, user


def beneficiary_organisation_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet:
    if not user.is_authenticated or not user.is_active:
        return BeneficiaryOrganisation.objects.none()
    return BeneficiaryOrganisation.objects.filter(users=user).order_by("name", "id")


def coordinator_may_apply(*, user: AbstractBaseUser) -> bool:
    """A coordinator applies once their e-mail address is verified (the hub must be able to reach them)."""
    return email_is_verified(user=user)


def beneficiary_invite_colleague(
    *, organisation: BeneficiaryOrganisation, actor: AbstractBaseUser, email: str, request=None
) -> Invitation:
    if not organisation.users.filter(pk=actor.pk).exists():
        raise OrganisationError(_("Only the organisation's own users can invite colleagues."))
    if organisation.users.filter(email__iexact=email.strip()).exists():
        raise OrganisationError(
            _("%(email)s is already a user of %(org)s.") % {"email": email, "org": organisation.name}
        )
    return invitation_create(
        kind=BENEFICIARY_INVITATION, target_id=organisation.pk, email=email, invited_by=actor, request=request
    )


def beneficiary_member_remove(
    *, organisation: BeneficiaryOrganisation, actor: AbstractBaseUser, user: AbstractBaseUser
) -> None:
    """Take a user off the organisation; the last user cannot leave."""
    with transaction.atomic():
        locked = BeneficiaryOrganisation.objects.select_for_update().get(pk=organisation.pk)
        members = set(locked.users.values_list("pk", flat=True))
        if actor.pk not in members or user.pk not in members:
            raise OrganisationError(_("Only the organisation's own users can remove its users."))
        if members == {user.pk}:
            raise OrganisationError(_("You are the organisation's last user: invite a colleague before you leave."))
        locked.users.remove(user)
        # Their own projects stay with the organisation; they no longer coordinate them.
        user.coordinated_projects.remove(*user.coordinated_projects.filter(organisation=locked.name))


def beneficiary_invitation_revoke(
    *, organisation: BeneficiaryOrganisation, actor: AbstractBaseUser, invitation_id: int
) -> None:
    if not organisation.users.filter(pk=actor.pk).exists():
        raise OrganisationError(_("Only the organisation's own users can withdraw its invitations."))
    pending = invitation_pending_list(kind=BENEFICIARY_INVITATION, target_id=organisation.pk)
    invitation = pending.filter(pk=invitation_id).first()
    if invitation is None:
        raise OrganisationError(_("This invitation was already accepted or withdrawn."))
    invitation_revoke(invitation=invitation)


def beneficiary_invitation_accept(invitation: Invitation, user: AbstractBaseUser) -> None:
    """What accepting a "beneficiary" invitation does (registered with hubs.accounts in ProjectsConfig.ready)."""
    BeneficiaryOrganisation.objects.get(pk=invitation.target_id).users.add(user)


def beneficiary_describe(organisation_id: int) -> str:
    return BeneficiaryOrganisation.objects.filter(pk=organisation_id).values_list("name", flat=True).first() or ""
