"""The organisation's users: invite colleagues by e-mail, remove them, withdraw an invitation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from closegap.ratelimit import rate_limit
from hubs.accounts import invitation_pending_list

from .forms import InviteColleagueForm
from .models import Donor
from .selectors import donor_list_for_user
from .services import (
    DONOR_INVITATION,
    DonationError,
    donor_invitation_revoke,
    donor_invite_colleague,
    donor_member_remove,
)


def _own_donor(request: HttpRequest, donor_id: int) -> Donor:
    # Only the user's own organisations: any other id is a 404, so ids cannot be probed.
    donor = donor_list_for_user(user=request.user).filter(pk=donor_id).first()
    if donor is None:
        raise Http404(_("No such organisation among yours."))
    return donor


def _team_page(request: HttpRequest, *, forms: dict[int, InviteColleagueForm] | None = None, status: int = 200):
    donors = list(donor_list_for_user(user=request.user).prefetch_related("users"))
    if not donors:
        return render(request, "donations/no_donor.html", status=403)
    forms = forms or {}
    teams = [
        {
            "donor": donor,
            "members": sorted(donor.users.all(), key=lambda user: (user.email or user.get_username()).lower()),
            "invitations": list(invitation_pending_list(kind=DONOR_INVITATION, target_id=donor.pk)),
            "form": forms.get(donor.pk) or InviteColleagueForm(prefix=f"donor{donor.pk}"),
        }
        for donor in donors
    ]
    return render(request, "donations/team.html", {"teams": teams}, status=status)


@login_required
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@require_POST
@login_required
@rate_limit("email")
def team_invite(request: HttpRequest, donor_id: int) -> HttpResponse:
    donor = _own_donor(request, donor_id)
    form = InviteColleagueForm(data=request.POST, prefix=f"donor{donor.pk}")
    if form.is_valid():
        try:
            donor_invite_colleague(donor=donor, actor=request.user, email=form.cleaned_data["email"], request=request)
        except DonationError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(
                request,
                _("We sent an invitation to %(email)s. It works for 7 days.") % {"email": form.cleaned_data["email"]},
            )
            return redirect("donations:team")
    return _team_page(request, forms={donor.pk: form}, status=400)


@require_POST
@login_required
def team_member_remove(request: HttpRequest, donor_id: int, user_id: int) -> HttpResponse:
    donor = _own_donor(request, donor_id)
    member = donor.users.filter(pk=user_id).first()
    if member is None:
        raise Http404(_("No such user in your organisation."))
    try:
        donor_member_remove(donor=donor, actor=request.user, user=member)
    except DonationError as exc:
        messages.error(request, str(exc))
        return redirect("donations:team")
    name = member.get_full_name() or member.email or member.get_username()
    messages.success(request, _("%(name)s no longer belongs to %(org)s.") % {"name": name, "org": donor.legal_name})
    if member.pk == request.user.pk:
        return redirect("after-login")
    return redirect("donations:team")


@require_POST
@login_required
def team_invitation_withdraw(request: HttpRequest, donor_id: int, invitation_id: int) -> HttpResponse:
    donor = _own_donor(request, donor_id)
    try:
        donor_invitation_revoke(donor=donor, actor=request.user, invitation_id=invitation_id)
    except DonationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The invitation is withdrawn: its link no longer works."))
    return redirect("donations:team")
