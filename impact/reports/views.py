"""The donor portal's yearly reports (list, issue, download) and their public verification page."""

import os
import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from common.ratelimit import rate_limit
from donations.selectors import donor_list_for_user
from donations.views import certificate_verify

from ..models import YearlyReport, YearlyReportXlsx
from .documents import breakdowns, yearly_report_pdf, yearly_report_rows, yearly_report_xlsx
from .selectors import (
    yearly_report_current_year,
    yearly_report_get_for_user,
    yearly_report_get_for_user_or_staff,
    yearly_report_get_public,
    yearly_report_list_for_user,
)
from .services import (
    FIRST_YEAR,
    YearlyReportError,
    yearly_report_issue,
    yearly_report_xlsx_inline_max,
    yearly_report_xlsx_open,
    yearly_report_xlsx_request,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEARS_OFFERED = 10


class YearlyReportForm(forms.Form):
    donor = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Organisation"))
    year = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Calendar year"))
    reason = forms.CharField(
        label=gettext_lazy("What was corrected"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Needed only to issue a year again: the new report supersedes the old one, which stays verifiable."
        ),
    )

    def __init__(self, *args, donors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["donor"].queryset = donors
        if len(donors) == 1:
            self.fields["donor"].widget = forms.HiddenInput()
            self.fields["donor"].initial = donors[0].pk
        last = yearly_report_current_year()
        first = max(FIRST_YEAR, last - YEARS_OFFERED + 1)
        self.fields["year"].choices = [(year, str(year)) for year in range(last, first - 1, -1)]
        self.fields["year"].initial = last - 1


def verify_url(request: HttpRequest, report: YearlyReport) -> str:
    """The report's public address, without a language (it opens in the reader's own), like the certificates'."""
    return request.build_absolute_uri(f"/verify/{report.number}/")


@login_required
@rate_limit("pledge")
def yearly_report_list(request: HttpRequest) -> HttpResponse:
    """The organisation's yearly reports, current and superseded, and the form to issue one."""
    donors = donor_list_for_user(user=request.user)
    if not donors:
        return render(request, "donations/no_donor.html", status=403)
    form = YearlyReportForm(data=request.POST or None, donors=donors)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = yearly_report_issue(
                donor=data["donor"], year=data["year"], actor=request.user, reason=data["reason"]
            )
        except YearlyReportError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Report %(number)s for %(year)s is issued.") % {"number": report.number, "year": report.year},
            )
            return redirect("impact:yearly-report-list")
    reports = list(yearly_report_list_for_user(user=request.user))
    current = next((report for report in reports if not hasattr(report, "superseded_by")), None)
    context = {
        "form": form,
        "reports": reports,
        "latest": current,
        "latest_rows": yearly_report_rows(current) if current else [],
        "latest_parts": breakdowns(current) if current else {},
    }
    return render(request, "impact/yearly_reports.html", context, status=400 if form.errors else 200)


def _report_or_404(request: HttpRequest, number: str, *, staff: bool = False) -> YearlyReport:
    get = yearly_report_get_for_user_or_staff if staff else yearly_report_get_for_user
    try:
        return get(user=request.user, number=number)
    except YearlyReport.DoesNotExist:
        raise Http404(_("No report has this number.")) from None


def _download_name(report: YearlyReport) -> str:
    return f"sustainability-report-{report.year}-{report.number}"


@login_required
@require_GET
def yearly_report_download(request: HttpRequest, number: str, extension: str) -> HttpResponse:
    report = _report_or_404(request, number, staff=True)
    name = _download_name(report)
    url = verify_url(request, report)
    if extension == "xlsx" and report.lines.count() > yearly_report_xlsx_inline_max():
        # Too many devices to write while the person waits: built once by a worker, followed on its own page.
        yearly_report_xlsx_request(report=report, language=get_language(), verify_url=url, actor=request.user)
        return redirect("impact:yearly-report-xlsx", number=report.number)
    if extension == "pdf":
        response = HttpResponse(yearly_report_pdf(report, verify_url=url), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response
    # Written to a temporary file and streamed from it: a report of many devices never sits whole in memory.
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    try:
        yearly_report_xlsx(report, target=handle, verify_url=url)
        size = handle.tell()
        handle.seek(0, os.SEEK_SET)
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=True, filename=f"{name}.xlsx", content_type=XLSX)
    response["Content-Length"] = str(size)
    return response


def _xlsx_job_or_404(request: HttpRequest, number: str) -> YearlyReportXlsx:
    report = _report_or_404(request, number, staff=True)
    job = report.xlsx_files.filter(language=get_language()).first()
    if job is None:
        raise Http404(_("This spreadsheet was not asked for: use the Excel link on the reports page."))
    return job


@login_required
@require_GET
def yearly_report_xlsx_page(request: HttpRequest, number: str) -> HttpResponse:
    """A large report's spreadsheet being built: its progress (reloaded by the page itself without JavaScript,
    polled by job-progress.js with it), then its download link."""
    job = _xlsx_job_or_404(request, number)
    context = {"job": job, "report": job.report, "progress": job.progress()}
    response = render(request, "impact/yearly_report_xlsx.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def yearly_report_xlsx_json(request: HttpRequest, number: str) -> JsonResponse:
    response = JsonResponse(_xlsx_job_or_404(request, number).progress())
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def yearly_report_xlsx_file(request: HttpRequest, number: str) -> FileResponse:
    job = _xlsx_job_or_404(request, number)
    try:
        opened = yearly_report_xlsx_open(job=job)
    except YearlyReportError as not_ready:
        raise Http404(str(not_ready)) from not_ready
    return FileResponse(opened, as_attachment=True, filename=f"{_download_name(job.report)}.xlsx", content_type=XLSX)


@require_GET
def document_verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public: whether a yearly report, or else a certificate (``donations``), with this number is genuine and
    current. The one address every QR code carries."""
    try:
        report = yearly_report_get_public(number=number)
    except YearlyReport.DoesNotExist:
        return certificate_verify(request, number)
    superseded_by = getattr(report, "superseded_by", None)
    return render(request, "impact/verify_yearly_report.html", {"report": report, "superseded_by": superseded_by})
