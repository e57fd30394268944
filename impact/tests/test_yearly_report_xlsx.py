"""A large yearly report's XLSX, built off the request: queued once per language, built once by a Celery task
into the private storage, followed on a page that works without JavaScript, downloaded only by the donor's own
users and staff."""

import io
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from common.storage import private_storage
from donations.factories import DonorFactory
from hubs.factories import UserFactory
from impact import tasks
from impact.models import YearlyReportXlsx
from impact.reports import documents, services, yearly_report_current_year, yearly_report_issue
from impact.reports import views as report_views
from refurbishing.factories import device_through

from .yearly_data import hub_manager, register

DEVICES = 4


@pytest.fixture
def acme(donor_user):
    return donor_user.donors.get()


@pytest.fixture
def large(settings):
    """Reports of more than two devices count as large here, so a few devices take the background path."""
    settings.YEARLY_REPORT_XLSX_INLINE_MAX_DEVICES = 2


def _report(donor, hubs):
    manager = hub_manager(hubs["KE-MBA"], f"manager-{donor.pk}")
    for device in register(donor, hubs["KE-MBA"], DEVICES):
        device_through(device, "receive", actor=manager)
    return yearly_report_issue(donor=donor, year=yearly_report_current_year(), actor=None)


@pytest.fixture
def report(acme, hubs):
    return _report(acme, hubs)


@pytest.fixture
def builds(monkeypatch):
    """How many times the workbook was written."""
    calls = []
    real = documents.yearly_report_xlsx

    def counted(*args, **kwargs):
        calls.append(translation.get_language())
        return real(*args, **kwargs)

    # The views module holds its own name for the function (bound when it was first imported), the task reads the
    # documents module's: both are counted, whichever test imported them first.
    monkeypatch.setattr(documents, "yearly_report_xlsx", counted)
    monkeypatch.setattr(report_views, "yearly_report_xlsx", counted)
    return calls


def _urls(report):
    return {
        "download": reverse("impact:yearly-report-download", args=[report.number, "xlsx"]),
        "page": reverse("impact:yearly-report-xlsx", args=[report.number]),
        "json": reverse("impact:yearly-report-xlsx-json", args=[report.number]),
        "file": reverse("impact:yearly-report-xlsx-file", args=[report.number]),
    }


@pytest.mark.django_db
def test_a_small_report_is_still_written_at_once(client, donor_user, report, builds):
    client.force_login(donor_user)
    response = client.get(_urls(report)["download"])
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert len(builds) == 1  # written in the request
    assert not YearlyReportXlsx.objects.exists()


@pytest.mark.django_db
def test_a_large_report_is_built_in_the_background_then_downloaded(
    client, donor_user, report, large, builds, django_capture_on_commit_callbacks
):
    client.force_login(donor_user)
    urls = _urls(report)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.get(urls["download"])
    assert response.status_code == 302 and response["Location"] == urls["page"]
    assert builds == [] and len(queued) == 1
    job = YearlyReportXlsx.objects.get()
    assert (job.report, job.language, job.status, job.total) == (report, "en", "queued", DEVICES)
    assert job.verify_url.endswith(f"/verify/{report.number}/")

    # Without JavaScript the page offers a link to itself (no timed reload: WCAG 2.2.1, axe's meta-refresh); with
    # it, job-progress.js polls the JSON and reloads once the file is ready.
    page = client.get(urls["page"]).content.decode()
    assert "http-equiv" not in page and f'href="{urls["page"]}"' in page
    assert f'data-url="{urls["json"]}"' in page and "js/job-progress.js" in page
    assert client.get(urls["json"]).json() | {"status_label": ""} == {
        "status": "queued",
        "status_label": "",
        "total": DEVICES,
        "done": 0,
        "percent": 0,
        "finished": False,
        "error": "",
    }
    assert client.get(urls["file"]).status_code == 404  # not built yet

    # Asking again while it waits queues nothing more.
    with django_capture_on_commit_callbacks(execute=False) as again:
        client.get(urls["download"])
    assert again == [] and YearlyReportXlsx.objects.count() == 1

    queued[0]()  # the worker (eager Celery in the embedded mode) runs the task
    assert builds == ["en"]
    job.refresh_from_db()
    assert job.status == "done" and private_storage().exists(job.file_name)
    page = client.get(urls["page"]).content.decode()
    assert f'href="{urls["file"]}"' in page
    assert client.get(urls["json"]).json()["finished"] is True
    file = client.get(urls["file"])
    assert file.status_code == 200 and "attachment" in file["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(file.streaming_content)), read_only=True)
    rows = [row for row in workbook.worksheets[-1].iter_rows(values_only=True) if any(row)]
    serials = {device.serial_number for device in report.lines.all()}
    assert serials and serials <= {cell for row in rows for cell in row}  # every device is listed


@pytest.mark.django_db
def test_each_language_gets_its_own_spreadsheet_in_that_language(
    client, donor_user, report, large, builds, django_capture_on_commit_callbacks
):
    client.force_login(donor_user)
    for language in ("fr", "nl"):
        with translation.override(language), django_capture_on_commit_callbacks(execute=True):
            assert client.get(_urls(report)["download"]).status_code == 302
    assert builds == ["fr", "nl"]
    assert set(YearlyReportXlsx.objects.values_list("language", "status")) == {("fr", "done"), ("nl", "done")}


@pytest.mark.django_db
def test_the_task_run_twice_builds_once(donor_user, report, large, builds, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = services.yearly_report_xlsx_request(
            report=report, language="en", verify_url="https://example.org/verify/x/", actor=donor_user
        )
    assert tasks.yearly_report_xlsx_build(job.pk) == "done"
    first_name = YearlyReportXlsx.objects.get().file_name
    assert tasks.yearly_report_xlsx_build(job.pk) == "done"
    assert builds == ["en"]
    assert YearlyReportXlsx.objects.get().file_name == first_name


@pytest.mark.django_db
def test_a_failed_build_says_so_and_asking_again_builds_it(
    client, donor_user, report, large, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(donor_user)
    urls = _urls(report)
    real = documents.yearly_report_xlsx

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(documents, "yearly_report_xlsx", broken)
    with pytest.raises(OSError), django_capture_on_commit_callbacks(execute=True):
        client.get(urls["download"])
    job = YearlyReportXlsx.objects.get()
    assert (job.status, job.error) == ("failed", "disk full")
    assert 'role="alert"' in client.get(urls["page"]).content.decode()
    assert client.get(urls["file"]).status_code == 404

    monkeypatch.setattr(documents, "yearly_report_xlsx", real)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(urls["download"])
    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    assert client.get(urls["file"]).status_code == 200


@pytest.mark.django_db
def test_another_donor_finds_nothing_and_staff_see_their_hubs_donors_only(
    client, report, large, staff_ke_mba, staff_be, superuser, django_capture_on_commit_callbacks
):
    urls = _urls(report)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.yearly_report_xlsx_request(
            report=report, language="en", verify_url="https://example.org/verify/x/", actor=None
        )
    job.refresh_from_db()
    assert job.status == "done"
    stranger = UserFactory(username="other-donor")
    DonorFactory(legal_name="Other BV").users.add(stranger)
    for user, allowed in ((stranger, False), (staff_be, False), (staff_ke_mba, True), (superuser, True)):
        client.force_login(user)
        for name in ("download", "page", "json", "file"):
            status = client.get(urls[name]).status_code
            assert (status != 404) is allowed, (user.username, name, status)
    client.logout()
    assert client.get(urls["file"]).status_code == 302  # to the sign-in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_build_once(donor_user, hubs, large, builds):
    report = _report(donor_user.donors.get(), hubs)
    job = services.yearly_report_xlsx_request(
        report=report, language="en", verify_url="https://example.org/verify/x/", actor=None
    )
    # The request's own after-commit build ran (eager Celery): start from a queued job again.
    YearlyReportXlsx.objects.filter(pk=job.pk).update(status="queued", file_name="")
    builds.clear()
    barrier, results = threading.Barrier(2), []

    def work():
        try:
            barrier.wait()
            results.append(services.yearly_report_xlsx_build(xlsx_id=job.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["done", "done"]
    assert builds == ["en"]
