"""What the platform holds about a person, to hand it over (JSON), and the deletion of their account.

Donor and coordinator users may download their data and delete their account. Their organisation's records
stay (donations, devices, projects belong to the organisation), and the chain of custody keeps every event:
the account row stays as the events' actor, with the name, e-mail and password removed, so each event now
reads "deleted-user-<id>". Beneficiaries' personal data is never stored: projects hold counts, not people.
Hub staff and superusers are removed by a platform admin instead (their events certify wipes).
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from donations.models import Donation
from hubs.accounts.second_factor import user_is_staff_like
from hubs.models import UserProfile
from refurbishing.models import DeviceEvent

DELETED_USERNAME = "deleted-user-{id}"
# A person who recorded many moves gets the latest ones listed, and the total.
EVENTS_LISTED = 1000


def _when(value) -> str | None:
    return value.isoformat() if value else None


def personal_data_export(*, user: AbstractBaseUser) -> dict[str, Any]:
    """Everything the platform holds about ``user``, as plain JSON-ready data."""
    profile = UserProfile.objects.filter(user=user).first()
    events = DeviceEvent.objects.filter(actor=user).order_by("-id")
    username = user.get_username()
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "username": username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
            "language": profile.language if profile else None,
        },
        "organisations": [
            {"legal_name": donor.legal_name, "country": str(donor.country)} for donor in user.donors.order_by("id")
        ],
        "projects_coordinated": [
            {"name": project.name, "organisation": project.organisation, "country": str(project.country)}
            for project in user.coordinated_projects.order_by("id")
        ],
        "donations_pledged": [
            {"reference": reference, "pledged_at": _when(pledged_at)}
            for reference, pledged_at in Donation.objects.filter(created_by=user)
            .order_by("id")
            .values_list("reference", "pledged_at")
        ],
        "device_events_recorded": {
            "total": events.count(),
            "latest": [
                {"device": device_id, "action": action, "occurred_at": _when(occurred_at)}
                for device_id, action, occurred_at in events.values_list("device_id", "action", "occurred_at")[
                    :EVENTS_LISTED
                ]
            ],
        },
        "sign_ins": [
            {"at": _when(log.attempt_time), "ip_address": log.ip_address, "user_agent": log.user_agent}
            for log in AccessLog.objects.filter(username=username).order_by("-attempt_time")[:100]
        ],
        "failed_sign_ins": [
            {"at": _when(log.attempt_time), "ip_address": log.ip_address}
            for log in AccessFailureLog.objects.filter(username=username).order_by("-attempt_time")[:100]
        ],
        "second_factor_devices": [
            {"kind": type(device).__name__, "name": device.name} for device in devices_for_user(user)
        ],
        "api_token": {"exists": Token.objects.filter(user=user).exists()},
    }


class AccountDeletionRefused(Exception):
    """This account cannot delete itself (hub staff and superusers are removed by a platform admin)."""


def account_can_self_delete(*, user: AbstractBaseUser) -> bool:
    return not user_is_staff_like(user=user)


@transaction.atomic
def account_delete(*, user: AbstractBaseUser) -> None:
    """Remove the person's personal data and close their account; their organisations' records stay."""
    if not account_can_self_delete(user=user):
        raise AccountDeletionRefused
    username = user.get_username()
    user.donors.clear()
    user.coordinated_projects.clear()
    Token.objects.filter(user=user).delete()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    UserProfile.objects.filter(user=user).delete()
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=username).delete()
    # The row stays (the chain of custody points at it), without anything that names the person.
    user.username = DELETED_USERNAME.format(id=user.pk)
    user.email = ""
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    _sessions_end(user_id=user.pk)


def _sessions_end(*, user_id: int) -> None:
    """End the person's sessions everywhere (a new password hash already refuses them; this removes them)."""
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id):
            session.delete()
