from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from hubs.models import Hub
from hubs.selectors import hub_ids_for_user

from .models import Donation, DonationChange, Donor, SpreadsheetImport

# Where a donor in a country without a hub usually sends its devices: the nearest hub's country.
NEAREST_HUB_COUNTRY = {
    "NL": "BE", "LU": "BE", "FR": "BE", "DE": "BE", "GB": "BE", "IE": "BE", "CH": "BE", "AT": "BE", "DK": "BE",
    "UG": "KE", "TZ": "KE", "RW": "KE", "ET": "KE", "SS": "KE", "SO": "KE", "BI": "KE",
    "NA": "ZA", "BW": "ZA", "ZW": "ZA", "MZ": "ZA", "LS": "ZA", "SZ": "ZA", "ZM": "ZA", "MW": "ZA",
    "CG": "CD", "CF": "CD", "AO": "CD", "GA": "CD", "CM": "CD",
}  # fmt: skip


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


def hub_suggested_for_donor(*, donor: Donor) -> Hub | None:
    """The active hub the donor's devices most likely go to: one in its country, else in the nearest hub country."""
    hubs = Hub.objects.filter(active=True).order_by("code")
    country = (donor.country or "").upper()
    for candidate in (country, NEAREST_HUB_COUNTRY.get(country)):
        if candidate:
            hub = hubs.filter(country=candidate).first()
            if hub is not None:
                return hub
    return None


def donation_change_list(*, donation: Donation) -> QuerySet[DonationChange]:
    return donation.changes.select_related("actor").order_by("occurred_at", "id")


def spreadsheet_import_get_for_user(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> SpreadsheetImport:
    """An upload of one of the user's organisations; ``SpreadsheetImport.DoesNotExist`` otherwise (a 404)."""
    return (
        SpreadsheetImport.objects.filter(donor__in=donor_list_for_user(user=user))
        # Not joined to its donation: a running import may be creating that row, and the progress poll must
        # not wait for it (the donation is read once the import is over).
        .select_related("donor")
        .defer("content")  # up to IMPORT_MAX_FILE_BYTES: loaded only by the steps that read the file
        .get(pk=pk)
    )
