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
