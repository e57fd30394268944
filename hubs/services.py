"""Writes to hubs and to who works at them."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from .models import Hub, HubKind, HubMembership, Invitation, Partner, UserProfile


class HubError(Exception):
    """A hub or membership change that cannot be made, with a message the platform admin can act on."""


def _validation_message(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def hub_create(
    *,
    code: str,
    name: str,
    country: str,
    city: str,
    kind: HubKind | None = None,
    active: bool = True,
) -> Hub:
    """Open a hub. Its code (country and city, e.g. KE-NBO) is how every page and report names it; its kind says
    what it does (a refurbishing hub unless another is given)."""
    code = code.strip().upper()
    # Without a kind the model's default gives the refurbishing hub kind.
    given = {"kind": kind} if kind is not None else {}
    hub = Hub(code=code, name=name, country=country.strip().upper(), city=city, active=active, **given)
    if hub.kind_id is None:
        raise HubError(_("Choose the hub's kind: there is no refurbishing hub kind to give it by default."))
    with transaction.atomic():
        if Hub.objects.filter(code=code).exists():
            raise HubError(_("A hub with the code %(code)s already exists; edit that hub instead.") % {"code": code})
        try:
            hub.full_clean()
        except ValidationError as exc:
            raise HubError(_validation_message(exc)) from exc
        hub.save()
    return hub


def hub_membership_add(
    *,
    hub: Hub,
    user: AbstractBaseUser,
    role: str = HubMembership.Role.TECHNICIAN,
) -> HubMembership:
    """Let a user work at a hub with a role; a user who already works there gets the role given here."""
    if role not in HubMembership.Role.values:
        raise HubError(
            _("%(role)s is not a hub role. Choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(HubMembership.Role.values)}
        )
    if not user.is_active:
        raise HubError(
            _("%(user)s is deactivated; reactivate the account before giving it work at %(hub)s.")
            % {"user": user, "hub": hub.code}
        )
    with transaction.atomic():
        membership, created = HubMembership.objects.select_for_update().get_or_create(
            user=user, hub=hub, defaults={"role": role}
        )
        if not created and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    # The hub selectors cache a user's hubs on the user object; this one now works somewhere new.
    user.__dict__.pop("_closegap_hub_ids", None)
    user.__dict__.pop("_closegap_managed_hub_ids", None)
    return membership


def partner_create(*, name: str, users: list[AbstractBaseUser] = ()) -> Partner:
    """Register a refurbishment partner with its accounts (they need ``is_staff`` to use the admin)."""
    with transaction.atomic():
        partner = Partner(name=name.strip())
        partner.full_clean()
        partner.save()
        partner.users.add(*users)
    return partner


def _require_manager(*, actor: AbstractBaseUser, hub: Hub) -> None:
    from .selectors import user_is_hub_manager

    if not user_is_hub_manager(user=actor, hub_id=hub.pk):
        raise HubError(_("Only a manager of %(hub)s manages who works there.") % {"hub": hub.code})


def _refuse_own_membership(*, actor: AbstractBaseUser, user: AbstractBaseUser, hub: Hub) -> None:
    # So a hub never loses its last manager by a slip: another manager, or the platform admin, does it.
    if user.pk == actor.pk and not actor.is_superuser:
        raise HubError(
            _("You cannot change your own membership of %(hub)s; ask another manager or the platform admin.")
            % {"hub": hub.code}
        )


def hub_membership_grant(
    *,
    actor: AbstractBaseUser,
    hub: Hub,
    user: AbstractBaseUser,
    role: str = HubMembership.Role.TECHNICIAN,
) -> HubMembership:
    """A hub's manager (or the platform admin) adds a person to the hub, or changes their role there.

    The person becomes staff, so they can use the admin and the scan station; what they see stays their hubs'.
    """
    _require_manager(actor=actor, hub=hub)
    _refuse_own_membership(actor=actor, user=user, hub=hub)
    with transaction.atomic():
        membership = hub_membership_add(hub=hub, user=user, role=role)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    return membership


def hub_membership_remove(*, actor: AbstractBaseUser, membership: HubMembership) -> None:
    """A hub's manager (or the platform admin) takes a person off the hub; their other hubs are untouched."""
    _require_manager(actor=actor, hub=membership.hub)
    _refuse_own_membership(actor=actor, user=membership.user, hub=membership.hub)
    with transaction.atomic():
        HubMembership.objects.filter(pk=membership.pk).delete()
    membership.user.__dict__.pop("_closegap_hub_ids", None)
    membership.user.__dict__.pop("_closegap_managed_hub_ids", None)


# Invitations to work at a hub, one kind per role (the invitation carries no role of its own).
HUB_INVITATION_KINDS = {role: f"hub-{role}" for role in HubMembership.Role.values}


def hub_invitation_describe(role: str) -> Callable[[int], str]:
    def describe(hub_id: int) -> str:
        hub = Hub.objects.get(pk=hub_id)
        return _("the %(hub)s hub, as %(role)s") % {"hub": hub, "role": HubMembership.Role(role).label}

    return describe


def hub_invitation_accept(role: str) -> Callable[[Invitation, AbstractBaseUser], None]:
    def accept(invitation: Invitation, user: AbstractBaseUser) -> None:
        # The manager's right was checked when they invited; the link proves the invitee's address.
        hub_membership_add(hub=Hub.objects.get(pk=invitation.target_id), user=user, role=role)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])

    return accept


def hub_member_invite(
    *,
    actor: AbstractBaseUser,
    hub: Hub,
    email: str,
    role: str = HubMembership.Role.TECHNICIAN,
    request: HttpRequest | None = None,
) -> Invitation:
    """A hub's manager invites someone without an account yet: they open the link, choose a password, and work
    at the hub with this role."""
    from .accounts import invitation_create

    _require_manager(actor=actor, hub=hub)
    if role not in HUB_INVITATION_KINDS:
        raise HubError(
            _("%(role)s is not a hub role. Choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(HubMembership.Role.values)}
        )
    return invitation_create(
        kind=HUB_INVITATION_KINDS[role], target_id=hub.pk, email=email, invited_by=actor, request=request
    )


def user_language_set(*, user: AbstractBaseUser, language: str) -> UserProfile:
    """Remember the language a person chose for themselves; it follows them to every device they sign in on."""
    offered = dict(settings.LANGUAGES)
    if language not in offered:
        raise HubError(
            _("%(language)s is not a language of this site. Choose one of: %(languages)s.")
            % {"language": language, "languages": ", ".join(offered)}
        )
    profile, _created = UserProfile.objects.update_or_create(user=user, defaults={"language": language})
    return profile


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> str:
    """A new API token for ``user``, replacing any earlier one (which stops working at once). Returns its key.

    Callers make sure the person signed in with their second factor when they owe one (the token endpoint asks
    for a code; the account page is behind SecondFactorMiddleware).
    """
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    """Revoke the person's API token; True if there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)
