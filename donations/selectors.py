from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet

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
