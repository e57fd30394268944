"""Demo data for the donor's yearly sustainability report: the demo donor's report for last calendar year, issued
through the service like any donor's, so the donor portal lists it and its verification page answers.

``seed_demo`` calls ``seed_yearly_report`` last, once every device has its history. Issued once: a second call
finds the report and leaves it (a reissue needs a reason, and the demo has nothing to correct).
"""

from donations.models import Donor
from impact.models import YearlyReport
from impact.reports import yearly_report_current_year, yearly_report_issue

DONOR = "Demo Donor NV"


def seed_yearly_report() -> YearlyReport:
    donor = Donor.objects.get(legal_name=DONOR)
    # Last calendar year, the one a company's annual report covers; the demo's two years of work fill it.
    year = yearly_report_current_year() - 1
    issued = YearlyReport.objects.filter(donor=donor, year=year, superseded_by__isnull=True).first()
    if issued is not None:
        return issued
    return yearly_report_issue(donor=donor, year=year, actor=donor.users.order_by("pk").first())
