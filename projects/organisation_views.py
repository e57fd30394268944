"""A beneficiary organisation signs up, and its users invite or remove colleagues (projects.organisations)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from closegap.ratelimit import rate_limit
from hubs.accounts import email_verification_send, invitation_pending_list
from hubs.views import SIGN_IN_BACKEND

from .forms import BeneficiarySignUpForm, InviteColleagueForm
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
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _organisation, user = beneficiary_sign_up(
                name=data["name"],
                country=data["country"],
                place=data["place"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                email=data["email"],
                password=data["password1"],
            )
        except OrganisationError as exc:
            # Someone signed up with this address between our check and the insert.
            form.add_error("email", str(exc))
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            email_verification_send(user=user, request=request)
            messages.success(
                request,
                _("Welcome. We sent a link to %(email)s: open it to confirm your address, then apply for devices.")
                % {"email": user.email},
            )
            return redirect("projects:portal")
    return render(request, "projects/signup.html", {"form": form}, status=400 if form.errors else 200)


def _own_organisation(request: HttpRequest, organisation_id: int) -> BeneficiaryOrganisation:
    organisation = beneficiary_organisation_list_for_user(user=request.user).filter(pk=organisation_id).first()
    if organisation is None:
        raise Http404(_("No such organisation among yours."))
    return organisation


def _team_page(request: HttpRequest, *, forms: dict[int, InviteColleagueForm] | None = None, status: int = 200):
    organisations = list(beneficiary_organisation_list_for_user(user=request.user).prefetch_related("users"))
    forms = forms or {}
    teams = [
        {
            "organisation": organisation,
            "members": sorted(organisation.users.all(), key=lambda user: (user.email or user.get_username()).lower()),
            "invitations": list(invitation_pending_list(kind=BENEFICIARY_INVITATION, target_id=organisation.pk)),
            "form": forms.get(organisation.pk) or InviteColleagueForm(prefix=f"org{organisation.pk}"),
        }
        for organisation in organisations
    ]
    return render(request, "projects/team.html", {"teams": teams, "section": "team"}, status=status)


@login_required
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@require_POST
@login_required
@rate_limit("email")
def team_invite(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = _own_organisation(request, organisation_id)
    form = InviteColleagueForm(data=request.POST, prefix=f"org{organisation.pk}")
    if form.is_valid():
        email = form.cleaned_data["email"]
        try:
            beneficiary_invite_colleague(organisation=organisation, actor=request.user, email=email, request=request)
        except OrganisationError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, _("We sent an invitation to %(email)s. It works for 7 days.") % {"email": email})
            return redirect("projects:team")
    return _team_page(request, forms={organisation.pk: form}, status=400)


@require_POST
@login_required
def team_member_remove(request: HttpRequest, organisation_id: int, user_id: int) -> HttpResponse:
    organisation = _own_organisation(request, organisation_id)
    member = organisation.users.filter(pk=user_id).first()
    if member is None:
        raise Http404(_("No such user in your organisation."))
    try:
        beneficiary_member_remove(organisation=organisation, actor=request.user, user=member)
    except OrganisationError as exc:
        messages.error(request, str(exc))
        return redirect("projects:team")
    name = member.get_full_name() or member.email or member.get_username()
    messages.success(request, _("%(name)s no longer belongs to %(org)s.") % {"name": name, "org": organisation.name})
    return redirect("after-login" if member.pk == request.user.pk else "projects:team")


@require_POST
@login_required
def team_invitation_withdraw(request: HttpRequest, organisation_id: int, invitation_id: int) -> HttpResponse:
    organisation = _own_organisation(request, organisation_id)
    try:
        beneficiary_invitation_revoke(organisation=organisation, actor=request.user, invitation_id=invitation_id)
    except OrganisationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The invitation is withdrawn: its link no longer works."))
    return redirect("projects:team")
