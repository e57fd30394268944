"""Reads of donors' yearly reports, scoped to the donor organisations a person belongs to."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from donations.models import Donation
from donations.selectors import donor_list_for_user
from hubs.selectors import hub_ids_for_user

from ..models import YearlyReport, YearlyReportLine

AnyUser = AbstractBaseUser | AnonymousUser


def yearly_report_time_zone() -> ZoneInfo:
    """The zone whose calendar year a report counts (``YEARLY_REPORT_TIME_ZONE``, by default the site's: UTC)."""
    return ZoneInfo(getattr(settings, "YEARLY_REPORT_TIME_ZONE", settings.TIME_ZONE))


def yearly_report_bounds(year: int, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """1 January 00:00 of ``year`` and of the next year in ``zone``: the year is ``start <= t < end``."""
    zone = zone or yearly_report_time_zone()
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def yearly_report_current_year(now: datetime | None = None) -> int:
    """The calendar year it is now in the report's zone."""
    return (now or timezone.now()).astimezone(yearly_report_time_zone()).year


def yearly_report_list_for_user(*, user: AnyUser) -> QuerySet[YearlyReport]:
    """The issued reports of the user's organisations, newest year first; nobody else's."""
    return (
        YearlyReport.objects.filter(donor__in=donor_list_for_user(user=user), sealed=True)
        .select_related("donor", "supersedes", "superseded_by")
        .order_by("-year", "-issued_at", "-id")
    )


def yearly_report_get_for_user(*, user: AnyUser, number: str) -> YearlyReport:
    """One of the user's organisations' reports by number; ``YearlyReport.DoesNotExist`` for anyone else's."""
    return yearly_report_list_for_user(user=user).get(number=number.strip().upper())


def yearly_report_get_for_user_or_staff(*, user: AnyUser, number: str) -> YearlyReport:
    """As ``yearly_report_get_for_user``, and for staff the reports the admin shows them: every report for a
    superuser, those of donors that donated to their hubs for hub staff (their downloads)."""
    try:
        return yearly_report_get_for_user(user=user, number=number)
    except YearlyReport.DoesNotExist:
        if not (user.is_authenticated and user.is_active and user.is_staff):
            raise
    reports = YearlyReport.objects.filter(sealed=True).select_related("donor", "supersedes")
    ids = hub_ids_for_user(user=user)
    if ids is not None:
        reports = reports.filter(Exists(Donation.objects.filter(donor=OuterRef("donor_id"), hub_id__in=ids)))
    return reports.get(number=number.strip().upper())


def yearly_report_get_public(*, number: str) -> YearlyReport:
    """An issued report by its number, for the public verification page; ``YearlyReport.DoesNotExist`` if unknown."""
    return YearlyReport.objects.select_related("superseded_by").get(number=number.strip().upper(), sealed=True)


def yearly_report_lines(*, report: YearlyReport) -> QuerySet[YearlyReportLine]:
    """The report's lines in a fixed order (outcome, then device), to stream with ``iterator``."""
    return YearlyReportLine.objects.filter(report=report).order_by("outcome", "device_id")
