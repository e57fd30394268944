"""Reads of donors' yearly reports, scoped to the donor organisations a person belongs to."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from donations.selectors import donor_list_for_user

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


def yearly_report_get_public(*, number: str) -> YearlyReport:
    """An issued report by its number, for the public verification page; ``YearlyReport.DoesNotExist`` if unknown."""
    return YearlyReport.objects.select_related("superseded_by").get(number=number.strip().upper(), sealed=True)


def yearly_report_lines(*, report: YearlyReport) -> QuerySet[YearlyReportLine]:
    """The report's lines in a fixed order (outcome, then device), to stream with ``iterator``."""
    return YearlyReportLine.objects.filter(report=report).order_by("outcome", "device_id")
