"""A donor organisation's yearly sustainability report: issued, frozen, verifiable (issue 19)."""

from .selectors import (
    yearly_report_bounds,
    yearly_report_current_year,
    yearly_report_get_for_user,
    yearly_report_get_public,
    yearly_report_lines,
    yearly_report_list_for_user,
    yearly_report_time_zone,
)
from .services import YearlyReportError, yearly_report_issue

__all__ = [
    "YearlyReportError",
    "yearly_report_bounds",
    "yearly_report_current_year",
    "yearly_report_get_for_user",
    "yearly_report_get_public",
    "yearly_report_issue",
    "yearly_report_lines",
    "yearly_report_list_for_user",
    "yearly_report_time_zone",
]
