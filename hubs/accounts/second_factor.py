"""The second factor (TOTP with recovery codes, django-otp): who must use it, and the services that set it up.

Hub staff and superusers record the wipes that donors' certificates vouch for, so in production they reach the
admin, the scan station and staff API operations only after a second-factor sign-in. The local default lets the
README's demo accounts skip it (``SECOND_FACTOR_EXEMPT_USERNAMES``); anyone else may turn it on for themselves.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hubs.selectors import user_is_hub_staff

AnyUser = AbstractBaseUser | AnonymousUser
Need = Literal["setup", "verify"]

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"


def user_is_staff_like(*, user: AnyUser) -> bool:
    """People who can move devices or certify wipes: superusers, admin staff and hub members."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.is_staff or user_is_hub_staff(user=user)


def second_factor_required(*, user: AnyUser) -> bool:
    """Must this person sign in with a second factor before doing staff work?"""
    if not settings.SECOND_FACTOR_REQUIRED_FOR_STAFF or not user_is_staff_like(user=user):
        return False
    return user.get_username() not in settings.SECOND_FACTOR_EXEMPT_USERNAMES


def user_is_verified(*, user: AnyUser) -> bool:
    """Did this session sign in with a second factor? (django_otp's OTPMiddleware sets ``is_verified``.)"""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def second_factor_need(*, user: AnyUser) -> Need | None:
    """What stands between this signed-in session and guarded pages: nothing, a code to enter, or a set-up.

    Anyone with a confirmed device enters a code (a donor who turned it on for themselves too); staff who must
    use a second factor and have none set it up first.
    """
    if not user.is_authenticated or user_is_verified(user=user):
        return None
    if user_has_device(user, confirmed=True):
        return "verify"
    if second_factor_required(user=user):
        return "setup"
    return None


# What the second factor asks of a session, worked out at its first guarded request and kept in the session
# (pages then cost no query for it). Setting up or removing a device forgets it; a role given later applies from
# the next sign-in.
SESSION_KEY = "closegap_second_factor"


def second_factor_need_for_request(request: HttpRequest) -> Need | None:
    """``second_factor_need`` for the signed-in person of ``request``, remembered by their session."""
    user = request.user
    if not user.is_authenticated or user_is_verified(user=user):
        return None
    state = request.session.get(SESSION_KEY)
    if state is None:
        state = second_factor_remember(request, user=user)
    if state["device"]:
        return "verify"
    return "setup" if state["required"] else None


def second_factor_remember(request: HttpRequest, *, user: AbstractBaseUser) -> dict[str, bool]:
    """Work out what the second factor asks of ``user`` and keep it in the session (done at login)."""
    state = {"device": user_has_device(user, confirmed=True), "required": second_factor_required(user=user)}
    request.session[SESSION_KEY] = state
    return state


def second_factor_forget(request: HttpRequest) -> None:
    """After a device is set up or removed: work the session's need out again at its next request."""
    request.session.pop(SESSION_KEY, None)


def totp_device_pending(*, user: AbstractBaseUser) -> TOTPDevice:
    """The authenticator being set up: made once, confirmed by the first code the person types from it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, user: AbstractBaseUser, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it, and issue fresh recovery codes.

    Returns the recovery codes (shown once), or None when the code is wrong. Earlier authenticators of the
    person are removed: one phone at a time.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(token.replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """Replace the person's recovery codes with new ones; each works once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_match(*, user: AbstractBaseUser, token: str):
    """The confirmed device that accepts ``token`` (an authenticator code or a recovery code), or None.

    Each device throttles its own failures (django-otp doubles the wait after each wrong code).
    """
    token = token.strip().replace(" ", "")
    if not token:
        return None
    for device in devices_for_user(user, confirmed=True):
        if device.verify_is_allowed()[0] and device.verify_token(token):
            return device
    return None


@transaction.atomic
def second_factor_disable(*, user: AbstractBaseUser) -> None:
    """Remove the person's authenticator and recovery codes (refused by the views when it is required)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def recovery_codes_left(*, user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
