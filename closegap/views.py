from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from donations.selectors import donor_list_for_user
from hubs.selectors import user_is_hub_staff
from projects.selectors import project_list_for_user


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and compose health checks; also the benchmarks' trivial baseline view."""
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Send each person to their own place: hub staff to the admin, coordinators and donors to their portals."""
    user = request.user
    if user.is_staff and user_is_hub_staff(user=user):
        return redirect("admin:index")
    if project_list_for_user(user=user).exists() and not donor_list_for_user(user=user).exists():
        return redirect("projects:portal")
    return redirect("donations:portal")
