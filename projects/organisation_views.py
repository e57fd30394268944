"""A beneficiary organisation signs up, and its users invite or remove colleagues (projects.organisations).

The pages are the ones every organisation account shares (hubs.accounts.organisation_pages); this module says they are
about beneficiary organisations: their form, their services, their wording and the project portal's menu.
"""

from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from common.ratelimit import rate_limit
from hubs.accounts.organisation_pages import OrganisationTeam, organisation_sign_up

from .forms import BeneficiarySignUpForm
from .models import BeneficiaryOrganisation
from .organisations import (
    BENEFICIARY_INVITATION,
    OrganisationError,
    beneficiary_invitation_revoke,
    beneficiary_invite_colleague,
    beneficiary_member_remove,
    beneficiary_organisation_list_for_user,
    beneficiary_sign_up,
)


@rate_limit("signup")
def signup(request: HttpRequest) -> HttpResponse:
    form = BeneficiarySignUpForm(request.POST or None)
    if signed_up := organisation_sign_up(request, form=form, sign_up=beneficiary_sign_up, error=OrganisationError):
        _organisation, user = signed_up
        messages.success(
            request,
            _("Welcome. We sent a link to %(email)s: open it to confirm your address, then apply for devices.")
            % {"email": user.email},
        )
        return redirect("projects:portal")
    return render(request, "projects/signup.html", {"form": form}, status=400 if form.errors else 200)


class BeneficiaryTeam(OrganisationTeam):
    namespace = "projects"
    template_name = "projects/team.html"
    form_prefix = "org"
    invitation_kind = BENEFICIARY_INVITATION
    error = OrganisationError
    extra_context = {"section": "team"}  # the project portal's menu marks the page

    def organisation_list(self, *, user: AbstractBaseUser) -> QuerySet[BeneficiaryOrganisation]:
        return beneficiary_organisation_list_for_user(user=user)

    # The services already take the organisation, actor and details by the names the shared views pass.
    colleague_invite = staticmethod(beneficiary_invite_colleague)
    member_remove = staticmethod(beneficiary_member_remove)
    invitation_revoke = staticmethod(beneficiary_invitation_revoke)


beneficiary_team = BeneficiaryTeam()
