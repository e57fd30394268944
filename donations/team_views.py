"""The donor organisation's users: invite colleagues by e-mail, remove them, withdraw an invitation.

The pages are the ones every organisation account shares (hubs.accounts.organisation_pages); this module says they are
about donors: their organisations, their services, and a 403 for a user who belongs to none.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hubs.accounts.organisation_pages import OrganisationTeam

from .models import Donor
from .selectors import donor_list_for_user
from .services import (
    DONOR_INVITATION,
    DonationError,
    donor_invitation_revoke,
    donor_invite_colleague,
    donor_member_remove,
)


class DonorTeam(OrganisationTeam):
    namespace = "donations"
    template_name = "donations/team.html"
    form_prefix = "donor"
    invitation_kind = DONOR_INVITATION
    error = DonationError

    def organisation_list(self, *, user: AbstractBaseUser) -> QuerySet[Donor]:
        return donor_list_for_user(user=user)

    def colleague_invite(
        self, *, organisation: Donor, actor: AbstractBaseUser, email: str, request: HttpRequest
    ) -> None:
        donor_invite_colleague(donor=organisation, actor=actor, email=email, request=request)

    def member_remove(self, *, organisation: Donor, actor: AbstractBaseUser, user: AbstractBaseUser) -> None:
        donor_member_remove(donor=organisation, actor=actor, user=user)

    def invitation_revoke(self, *, organisation: Donor, actor: AbstractBaseUser, invitation_id: int) -> None:
        donor_invitation_revoke(donor=organisation, actor=actor, invitation_id=invitation_id)

    def without_organisation(self, request: HttpRequest) -> HttpResponse:
        return render(request, "donations/no_donor.html", status=403)


donor_team = DonorTeam()
