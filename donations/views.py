"""Donor pages: sign-up, pledge, and the portal that follows each donated device."""

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from closegap.ratelimit import rate_limit
from hubs.accounts import email_verification_send
from hubs.views import SIGN_IN_BACKEND
from refurbishing.models import DeviceState
from refurbishing.selectors import device_list_for_donation

from .forms import ADD_ROWS, DEFAULT_ROWS, MAX_ROWS, DeviceRowFormSet, DonorSignUpForm, PledgeForm
from .models import Donation, Donor
from .selectors import donation_list_for_user, donor_list_for_user
from .services import DonationError, donation_pledge, donor_sign_up, donor_user_may_pledge

ROWS_PREFIX = "devices"


@rate_limit("signup")
def signup(request: HttpRequest) -> HttpResponse:
    form = DonorSignUpForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donor, user = donor_sign_up(
                legal_name=data["legal_name"],
                registration_number=data["registration_number"],
                country=data["country"],
                address=data["address"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                email=data["email"],
                password=data["password1"],
            )
        except DonationError as exc:
            # Someone signed up with this address between our check and the insert.
            form.add_error("email", str(exc))
        except IntegrityError:
            # Someone signed up the same organisation between our check and the insert; the service rolled
            # both rows back, so say so and let the person try again.
            form.add_error(
                "registration_number",
                _("An organisation with this registration number has already signed up."),
            )
        else:
            login(request, user, backend=SIGN_IN_BACKEND)
            email_verification_send(user=user, request=request)
            messages.success(
                request,
                _(
                    "Welcome, %(org)s. We sent a link to %(email)s: open it to confirm your address, "
                    "then tell us what you would like to donate."
                )
                % {"org": donor.legal_name, "email": user.email},
            )
            return redirect("donations:pledge")
    return render(request, "donations/signup.html", {"form": form})


def _requested_rows(request: HttpRequest) -> int:
    try:
        rows = int(request.GET.get("rows", DEFAULT_ROWS))
    except ValueError:
        rows = DEFAULT_ROWS
    return max(1, min(rows, MAX_ROWS))


def _with_more_rows(form: PledgeForm, formset, *, donors: QuerySet[Donor]) -> tuple[PledgeForm, Any]:
    """The same pledge as unbound forms carrying what was typed, plus empty rows (the no-JS "add rows")."""
    typed = {name: form[name].value() for name in form.fields}
    rows = [{name: row[name].value() for name in row.fields} for row in formset.forms]
    more = PledgeForm(initial=typed, donors=donors)
    more_rows = DeviceRowFormSet(initial=rows, prefix=ROWS_PREFIX)
    more_rows.extra = max(0, min(ADD_ROWS, MAX_ROWS - len(rows)))
    return more, more_rows


@login_required
@rate_limit("pledge")
def pledge(request: HttpRequest) -> HttpResponse:
    donors = donor_list_for_user(user=request.user)
    if not donors:  # evaluates the queryset once; the form reuses its rows
        return render(request, "donations/no_donor.html", status=403)
    if not donor_user_may_pledge(user=request.user):
        return render(request, "donations/verify_required.html", status=403)

    if request.method != "POST":
        first = donors[0]
        form = PledgeForm(donors=donors, initial={"pickup_address": first.address})
        formset = DeviceRowFormSet(prefix=ROWS_PREFIX)
        formset.extra = _requested_rows(request)
        return render(request, "donations/pledge.html", {"form": form, "formset": formset})

    form = PledgeForm(data=request.POST, donors=donors)
    formset = DeviceRowFormSet(data=request.POST, prefix=ROWS_PREFIX)
    if "add_rows" in request.POST:
        form, formset = _with_more_rows(form, formset, donors=donors)
        return render(request, "donations/pledge.html", {"form": form, "formset": formset})

    # Both validated, so every mistake shows at once.
    form_valid = form.is_valid()
    if formset.is_valid() and form_valid:
        data = form.cleaned_data
        rows = formset.device_rows()
        try:
            donation = donation_pledge(
                donor=data.get("donor") or donors[0],
                hub=data["hub"],
                pickup_address=data["pickup_address"],
                pickup_date=data["pickup_date"],
                notes=data["notes"],
                rows=rows,
                actor=request.user,
            )
        except DonationError as exc:
            # The service saved nothing; the rows stay on the page as typed.
            form.add_error(None, str(exc))
        else:
            count = len(rows)
            messages.success(
                request,
                ngettext(
                    "Thank you! Donation %(reference)s is pledged with %(count)d device. "
                    "The hub will contact you about the pickup.",
                    "Thank you! Donation %(reference)s is pledged with %(count)d devices. "
                    "The hub will contact you about the pickup.",
                    count,
                )
                % {"reference": donation.reference, "count": count},
            )
            return redirect("donations:detail", reference=donation.reference)
    return render(request, "donations/pledge.html", {"form": form, "formset": formset})


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    donors = list(donor_list_for_user(user=request.user))
    donations = list(donation_list_for_user(user=request.user)) if donors else []
    return render(request, "donations/portal.html", {"donors": donors, "donations": donations})


@login_required
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    # Scoped to the user's own organisations: anyone else's reference is a 404, not a 403, so references
    # cannot be probed.
    try:
        donation = donation_list_for_user(user=request.user).get(reference=reference)
    except Donation.DoesNotExist:
        raise Http404(_("No such donation among yours.")) from None
    devices = list(device_list_for_donation(donation_id=donation.pk))
    # Every device is on the page anyway, so they are counted here rather than by a second query.
    counts = Counter(device.state for device in devices)
    state_counts = [(label, counts[value]) for value, label in DeviceState.choices if counts[value]]
    return render(
        request,
        "donations/detail.html",
        {"donation": donation, "devices": devices, "state_counts": state_counts},
    )
