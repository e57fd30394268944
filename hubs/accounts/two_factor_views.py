"""The person's own security pages: the second factor, recovery codes and API tokens (hubs.accounts.second_factor)."""

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from rest_framework.authtoken.models import Token

from hubs.accounts.second_factor import (
    recovery_codes_left,
    recovery_codes_regenerate,
    second_factor_disable,
    second_factor_forget,
    second_factor_match,
    second_factor_need,
    second_factor_required,
    totp_device_confirm,
    totp_device_pending,
    user_is_verified,
)
from hubs.services import api_token_create, api_token_revoke


class SecondFactorCodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        help_text=gettext_lazy("The 6 digits your authenticator app shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("after-login")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The person's security settings: second factor, recovery codes, API token, their data."""
    user = request.user
    context = {
        "has_second_factor": second_factor_need(user=user) == "verify" or user_is_verified(user=user),
        "second_factor_required": second_factor_required(user=user),
        "recovery_codes_left": recovery_codes_left(user=user),
        "has_token": Token.objects.filter(user=user).exists(),
    }
    return render(request, "hubs/account.html", context)


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then type the code it shows."""
    user = request.user
    if second_factor_need(user=user) == "verify":
        # Already has one: prove it first (then the account page offers a new one).
        return redirect(f"{reverse('two-factor-verify')}?next={reverse('two-factor-setup')}")
    device = totp_device_pending(user=user)
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_device_confirm(user=user, device=device, token=form.cleaned_data["token"])
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            second_factor_forget(request)
            return render(request, "hubs/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("token", _("That code is not the one your app shows now. Check the time on your phone."))
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, title=_("QR code to scan with your app"))
    key = device.config_url.split("secret=")[1].split("&")[0]
    context = {"form": form, "qr": qr, "key": key, "next": _next_url(request)}
    return render(request, "hubs/two_factor_setup.html", context)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Enter the second factor for this session."""
    user = request.user
    if second_factor_need(user=user) != "verify":
        return HttpResponseRedirect(_next_url(request))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor_match(user=user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
        form.add_error("token", _("That code was not accepted. Wait for the next code, or use a recovery code."))
    return render(request, "hubs/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_POST
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    if not user_is_verified(user=request.user):
        return redirect("two-factor-setup")
    codes = recovery_codes_regenerate(user=request.user)
    return render(request, "hubs/recovery_codes.html", {"codes": codes, "next": reverse("account")})


@login_required
@require_POST
def two_factor_off(request: HttpRequest) -> HttpResponse:
    if second_factor_required(user=request.user):
        messages.error(request, _("Hub staff cannot turn the second factor off."))
    elif second_factor_need(user=request.user) is None:
        second_factor_disable(user=request.user)
        second_factor_forget(request)
        messages.success(request, _("The second factor is off."))
    return redirect("account")


@login_required
@require_POST
def api_token(request: HttpRequest) -> HttpResponse:
    """Create (or replace) the person's API token, shown once, or revoke it."""
    if request.POST.get("action") == "revoke":
        api_token_revoke(user=request.user)
        messages.success(request, _("Your API token is revoked: scripts that used it are refused from now on."))
        return redirect("account")
    # Guarded pages: a person who owes a second factor never gets here without it (SecondFactorMiddleware).
    key = api_token_create(user=request.user)
    return render(request, "hubs/api_token.html", {"key": key})
