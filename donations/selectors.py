from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from hubs.selectors import hub_ids_for_user

from .models import Donation, Donor


def donor_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Donor]:
    if not user.is_authenticated:
        return Donor.objects.none()
    return Donor.objects.filter(users=user)


def donation_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Donation]:
    """The donations of the donor organisations the user belongs to, with their device counts."""
    return (
        Donation.objects.filter(donor__in=donor_list_for_user(user=user))
        .select_related("donor", "hub")
        .annotate(device_count=Count("devices"))
        .order_by("-pledged_at")
    )


def donation_list_awaiting_check_in(*, user: AbstractBaseUser | AnonymousUser, limit: int = 20) -> QuerySet[Donation]:
    """Donations pledged to the user's hubs and not yet fully received, oldest pickup first."""
    from hubs.selectors import restrict_to_user_hubs

    queryset = Donation.objects.filter(status=Donation.Status.PLEDGED).select_related("donor", "hub")
    return restrict_to_user_hubs(queryset, user=user).order_by("pledged_at")[:limit]


def donation_list_for_api(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Donation]:
    """What the API shows: a donor's users their organisations' donations; hub staff their hubs' donations.

    Anything else does not exist for the caller (the API answers 404, as the pages do).
    """
    if not user.is_authenticated or not user.is_active:
        return Donation.objects.none()
    hub_ids = hub_ids_for_user(user=user)
    scope = Q(donor__users=user)
    if hub_ids is None:
        scope = Q()
    elif hub_ids:
        scope |= Q(hub_id__in=hub_ids)
    # A subquery keeps one row per donation whatever the joins (a user of two organisations, staff and donor).
    ids = Donation.objects.filter(scope).values("pk")
    return Donation.objects.filter(pk__in=ids).select_related("donor", "hub").annotate(device_count=Count("devices"))
