"""Accounts, generic over who uses them: sign-in by e-mail, e-mail verification, invitations, mail sent once.

Donors use it today (``donations`` registers the "donor" invitation kind); beneficiary organisations'
coordinators can use the same machinery by registering their own kind. Nothing here knows about donors.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from hubs.models import EmailVerification, Invitation, NotificationSent, UserProfile

INVITATION_SALT = "hubs.accounts.invitation"
# An invitation link works for a week; a verification link as long as a password reset link.
INVITATION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60


class AccountError(Exception):
    """An account change that cannot be made, with a message the person can act on."""


def normalise_email(email: str) -> str:
    """Addresses are compared without case; stored as typed but trimmed, with the domain in lower case."""
    email = email.strip()
    local, _at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}" if local else email


def user_with_email(*, email: str) -> AbstractBaseUser | None:
    """The one account with this address (any case), or None when there is none or, in old data, several."""
    users = list(get_user_model().objects.filter(email__iexact=email.strip())[:2])
    return users[0] if len(users) == 1 else None


def account_username_for_login(*, typed: str) -> str:
    """The username behind what a person typed at a sign-in door: their e-mail address, or their username."""
    typed = (typed or "").strip()
    if "@" in typed:
        user = user_with_email(email=typed)
        if user is not None:
            return user.get_username()
        return typed.lower()
    return typed


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """django-axes counts failures per account, whether the person typed the e-mail address or the username."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = getattr(request, "POST", {}).get("username", "")
    return account_username_for_login(typed=typed or "")


def _free_username(email: str) -> str:
    User = get_user_model()
    base = email.lower()[:140]
    if not User.objects.filter(username=base).exists():
        return base
    return f"{base[:130]}-{secrets.token_hex(4)}"


def account_create(
    *,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    username: str | None = None,
) -> AbstractBaseUser:
    """Open an account identified by its e-mail address (one account per address, whatever its case).

    The username, which people never see or type, is the address itself unless one is given (demo accounts).
    """
    email = normalise_email(email)
    User = get_user_model()
    taken = AccountError(_("An account with this e-mail address already exists. Log in, or reset your password."))
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username or _free_username(email),
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
    except IntegrityError:  # the same address signed up a moment ago (hubs migration 0004's unique index)
        if User.objects.filter(email__iexact=email).exists():
            raise taken from None
        raise


def site_url(path: str, *, request: HttpRequest | None = None) -> str:
    """An absolute address for a link in an e-mail: from the request when there is one, else ``SITE_URL``."""
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL.rstrip("/") + path


def _language_of(user: AbstractBaseUser | None) -> str:
    if user is None or user.pk is None:
        return translation.get_language() or settings.LANGUAGE_CODE
    stored = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
    return stored or settings.LANGUAGE_CODE


def mail_send(
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str | None = None,
    user: AbstractBaseUser | None = None,
) -> None:
    """Send ``template``_subject.txt and ``template``_body.txt, rendered in the recipient's language.

    The language is the one given, else the user's stored one, else the site's. ``context`` may hold a
    callable ``links`` building addresses: it is called inside the language, so links open in it too.
    """
    language = language or _language_of(user)
    with translation.override(language):
        context = dict(context)
        links = context.pop("links", None)
        if links is not None:
            context.update(links())
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[to])


# --- e-mail verification ---------------------------------------------------------------------------------


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Like a password reset token, for another purpose: it stops working once the address changes."""

    key_salt = "hubs.accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        return f"{user.pk}{user.email}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()


def email_is_verified(*, user: AbstractBaseUser) -> bool:
    if not user.is_authenticated or not user.email:
        return False
    return EmailVerification.objects.filter(user=user, email__iexact=user.email).exists()


def account_email_mark_verified(*, user: AbstractBaseUser) -> EmailVerification:
    """Record that the user's current address reaches them (a link opened, or an invitation accepted)."""
    verification, _created = EmailVerification.objects.update_or_create(
        user=user, defaults={"email": user.email, "verified_at": timezone.now()}
    )
    return verification


def email_verification_send(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> None:
    """E-mail the user a link that proves the address is theirs."""
    if not user.email:
        raise AccountError(_("This account has no e-mail address to verify."))
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_token.make_token(user)
    mail_send(
        to=user.email,
        template="accounts/email/verify",
        user=user,
        context={
            "user": user,
            "links": lambda: {
                "verify_url": site_url(reverse("verify-email", kwargs={"uidb64": uid, "token": token}), request=request)
            },
        },
    )


def email_verification_confirm(*, uidb64: str, token: str) -> AbstractBaseUser | None:
    """The user whose address the link proves (now recorded as verified), or None for a bad or old link."""
    try:
        user = get_user_model().objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
    if not email_verification_token.check_token(user, token):
        return None
    account_email_mark_verified(user=user)
    return user


# --- invitations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationKind:
    """What an app says about its invitations: how to name the target, what accepting does, where to go next."""

    describe: Callable[[int], str]
    accept: Callable[[Invitation, AbstractBaseUser], None]
    landing_url_name: str


INVITATION_KINDS: dict[str, InvitationKind] = {}


def register_invitation_kind(
    kind: str,
    *,
    describe: Callable[[int], str],
    accept: Callable[[Invitation, AbstractBaseUser], None],
    landing_url_name: str,
) -> None:
    """Called by an app above (in its AppConfig.ready) so this layer never imports it."""
    INVITATION_KINDS[kind] = InvitationKind(describe=describe, accept=accept, landing_url_name=landing_url_name)


def invitation_kind(kind: str) -> InvitationKind:
    return INVITATION_KINDS[kind]


def invitation_pending_list(*, kind: str, target_id: int):
    return Invitation.objects.filter(
        kind=kind, target_id=target_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def invitation_create(
    *,
    kind: str,
    target_id: int,
    email: str,
    invited_by: AbstractBaseUser | None,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite an address to join; asking again for the same address sends the same, still pending, invitation."""
    if kind not in INVITATION_KINDS:
        raise AccountError(f"Unknown invitation kind {kind!r}")
    email = normalise_email(email)
    with transaction.atomic():
        invitation = invitation_pending_list(kind=kind, target_id=target_id).filter(email__iexact=email).first()
        if invitation is None:
            invitation = Invitation.objects.create(kind=kind, target_id=target_id, email=email, invited_by=invited_by)
        transaction.on_commit(lambda: invitation_send(invitation=invitation, request=request))
    return invitation


def invitation_token(*, invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def invitation_send(*, invitation: Invitation, request: HttpRequest | None = None) -> None:
    token = invitation_token(invitation=invitation)
    inviter = invitation.invited_by
    mail_send(
        to=invitation.email,
        template="accounts/email/invitation",
        # The invitee has no account yet: the invitation reads in the language of the person who sent it.
        language=translation.get_language() if request is not None else _language_of(inviter),
        context={
            "inviter": (inviter.get_full_name() or inviter.email) if inviter else "",
            "target": INVITATION_KINDS[invitation.kind].describe(invitation.target_id),
            "links": lambda: {
                "accept_url": site_url(reverse("invitation-accept", kwargs={"token": token}), request=request)
            },
        },
    )


def invitation_from_token(*, token: str) -> Invitation | None:
    """The pending invitation the link stands for, or None: tampered, expired, used or withdrawn."""
    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=INVITATION_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    return Invitation.objects.filter(pk=pk, accepted_at__isnull=True, revoked_at__isnull=True).first()


def invitation_accept(*, invitation: Invitation, user: AbstractBaseUser) -> None:
    """The user joins what they were invited to; the invitation is used up. Their address is proven by the link."""
    if (user.email or "").lower() != invitation.email.lower():
        raise AccountError(
            _("This invitation was sent to %(email)s. Log in with that address to accept it.")
            % {"email": invitation.email}
        )
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None or locked.revoked_at is not None:
            raise AccountError(_("This invitation has already been used or withdrawn."))
        INVITATION_KINDS[locked.kind].accept(locked, user)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        account_email_mark_verified(user=user)


def invitation_accept_new_account(
    *, invitation: Invitation, password: str, first_name: str = "", last_name: str = ""
) -> AbstractBaseUser:
    """Open an account for the invited address and accept the invitation with it: both or neither."""
    with transaction.atomic():
        user = account_create(email=invitation.email, password=password, first_name=first_name, last_name=last_name)
        invitation_accept(invitation=invitation, user=user)
    return user


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())


# --- notifications sent once -----------------------------------------------------------------------------


def notification_send_once(*, key: str, send: Callable[[], None]) -> bool:
    """Send a notification unless one with this key already went out; returns whether this call sent it.

    The key is claimed (inserted, unique) in the same transaction as the sending, before it: a second run,
    even at the same moment in another worker, finds the key taken and sends nothing. If sending fails the
    claim rolls back, so a retry sends it.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                _marker, created = NotificationSent.objects.get_or_create(key=key)
        except IntegrityError:  # another worker claimed it between our look and our insert
            return False
        if not created:
            return False
        send()
    return True
