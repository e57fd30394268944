"""Account pages shared by every kind of user: the e-mail verification link and invitations."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.ratelimit import rate_limit

from .accounts import (
    AccountError,
    email_verification_confirm,
    email_verification_send,
    invitation_accept,
    invitation_accept_new_account,
    invitation_from_token,
    invitation_kind,
)
from .accounts.backends import SIGN_IN_BACKEND
from .forms import InvitationAcceptForm


def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = email_verification_confirm(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/verify_invalid.html", status=400)
    messages.success(request, _("Thank you: your e-mail address %(email)s is confirmed.") % {"email": user.email})
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("after-login")
    return redirect("login")


@require_POST
@login_required
@rate_limit("email")
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    try:
        email_verification_send(user=request.user, request=request)
    except AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("We sent a new link to %(email)s. It may take a minute to arrive.") % {"email": request.user.email},
        )
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("after-login")


@rate_limit("signup")
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_from_token(token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    kind = invitation_kind(invitation.kind)
    context = {"invitation": invitation, "target": kind.describe(invitation.target_id)}
    existing = get_user_model().objects.filter(email__iexact=invitation.email).exists()

    if existing:
        user_matches = request.user.is_authenticated and request.user.email.lower() == invitation.email.lower()
        if request.method == "POST" and user_matches:
            try:
                invitation_accept(invitation=invitation, user=request.user)
            except AccountError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Welcome to %(target)s.") % {"target": context["target"]})
                return redirect(kind.landing_url_name)
        return render(request, "accounts/invitation_accept.html", context | {"user_matches": user_matches})

    # A new account: the form validates the password against an account with the invited address.
    form = InvitationAcceptForm(get_user_model()(email=invitation.email), data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept_new_account(
                invitation=invitation,
                password=form.cleaned_data["new_password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            messages.success(request, _("Welcome to %(target)s.") % {"target": context["target"]})
            return redirect(kind.landing_url_name)
    return render(request, "accounts/invitation_accept.html", context | {"form": form})
