"""axe-core over the demo site in a real Chromium: every listed page, in every language, on a phone and a desktop.

axe-core comes from npm (``npm ci`` installs it under node_modules/, see package.json) and is injected into the
page from that local file: nothing is loaded from a CDN. The goal is 0 serious and 0 critical violations; moderate
and minor ones are printed, so they stay visible without failing the run.

Each language is one test: it seeds the demo data once (the slow part) and then visits every page at both widths,
so one run reports every violation at once instead of stopping at the first. Each page is loaded once and
checked at both widths, the viewport changing in between. A visit may act on the page before axe
runs (``prepare``): submit a form with mistakes, so the error summary is checked too, or wait for Swagger UI to draw
the API docs and open every operation, so axe sees what people use rather than a page still loading.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from donations.models import Certificate, Donation, Donor, EResourceCommitment
from hubs.accounts import invitation_token
from hubs.models import Hub, Invitation
from projects.models import DeviceRequest, Project, Shipment
from refurbishing.models import Device, RecyclingBatch, RecyclingPartner, Transfer
from tests.live_server import LIVE_SERVER_LOCK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}


@dataclass(frozen=True)
class Visit:
    name: str
    user: str | None  # the demo account the page is seen as; None for anonymous
    url: Callable[[], str]
    prepare: Callable[[Any], None] | None = None  # done on the loaded page (a Playwright Page) before axe runs
    status: int = 200  # what the address answers (a page that explains a refusal, e.g. 409, is checked too)
    languages: frozenset[str] | None = None  # the languages it is checked in; None: every one


def _submit_with_mistakes(form_selector: str, button_selector: str = "button[type=submit]"):
    """Send the form as it stands (empty, or with an impossible number) so the page comes back with its errors."""

    def prepare(page) -> None:
        form = page.locator(form_selector).first
        form.evaluate("form => { form.noValidate = true; }")  # the server's checks, not the browser's
        number = form.locator("input[type=number]")
        if number.count():
            number.first.fill("-1")
        with page.expect_navigation():
            form.locator(button_selector).last.click()
        assert page.locator("[data-error-summary]").count() == 1, "the form came back without its error summary"

    return prepare


def _without(field_selector: str, *, then: Callable[[Any], None]):
    """Empty a field the page fills in for you (a default date), then ``then`` (send the form with that mistake)."""

    def prepare(page) -> None:
        page.locator(field_selector).fill("")
        then(page)

    return prepare


def _submit_until_refused(fields: dict[str, str], attempts: int = 3):
    """Post the page's form with ``fields`` until the door answers 429 (a lockout or a rate limit: the
    ``demo_site`` fixture sets tight limits), so axe checks the page that says how long to wait."""

    def prepare(page) -> None:
        for _ in range(attempts):
            form = page.locator("main form").first
            for name, value in fields.items():
                form.locator(f"[name={name}]").fill(value)
            with page.expect_navigation() as navigation:
                form.locator("button[type=submit]").last.click()
            if navigation.value.status == 429:
                return
        raise AssertionError(f"the form was not refused after {attempts} attempts")

    return prepare


def _open_every_operation(page) -> None:
    """Swagger UI draws the docs after the page loads: wait for it, then open every operation and its "Try it out"
    form, so that axe also checks the parameters, inputs and examples. The clicks are sent from the page's own
    script in one go (Playwright clicking ~80 controls one by one, each waiting for React to draw, took 95 s)."""
    next_frame = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    page.wait_for_selector(".opblock-summary-control")
    operations = page.evaluate(
        "() => { const all = document.querySelectorAll('.opblock-summary-control'); all.forEach(c => c.click());"
        " return all.length; }"
    )
    page.wait_for_function(f"() => document.querySelectorAll('.try-out__btn').length >= {operations}")
    page.evaluate("() => document.querySelectorAll('.try-out__btn').forEach(b => b.click())")
    page.wait_for_function("() => document.querySelectorAll('.try-out__btn:not(.cancel)').length === 0")
    # Two animation frames: React has drawn, and static/js/swagger-a11y.js has run over what it drew.
    page.evaluate(next_frame)


def _scan(code: str, *, field: str = "#scan-code", outcome: str = "unknown"):
    """Scan ``code`` as a keyboard-wedge scanner does (the code, then Enter) and wait for the answer's fragment."""

    def prepare(page) -> None:
        page.locator(field).fill(code)
        page.locator(field).press("Enter")
        page.wait_for_selector(f"[data-scan-outcome={outcome}]")

    return prepare


def _demo_devices():
    return Device.objects.filter(donation__donor__users__username="donor-demo")


def _demo_donations(*, certified: bool):
    donations = Donation.objects.filter(donor__users__username="donor-demo").order_by("pk")
    with_certificate = Certificate.objects.filter(kind="sanitisation").values("donation")
    return donations.filter(pk__in=with_certificate) if certified else donations.exclude(pk__in=with_certificate)


def _coordinator_shipped():
    return _first(Shipment.objects.filter(project__coordinators__username="coordinator-demo", status="shipped"))


def _first(queryset):
    obj = queryset.first()
    assert obj is not None, f"the demo data has no {queryset.model.__name__} for this page"
    return obj


def _editable_pledge() -> Donation:
    """A pledge of donor-demo whose devices have not arrived (the demo's donations all have some that have)."""
    from donations.services import donation_is_editable, donation_pledge

    for donation in Donation.objects.filter(donor__users__username="donor-demo", status="pledged"):
        if donation_is_editable(donation=donation):
            return donation
    donation = _first(Donation.objects.filter(donor__users__username="donor-demo"))
    return donation_pledge(
        donor=donation.donor,
        hub=donation.hub,
        pickup_address=donation.pickup_address,
        rows=[{"category": "laptop", "manufacturer": "Dell", "model": "Latitude 5490", "serial_number": "A11Y-1"}],
        actor=None,
    )


# A small asset list with one of each problem, so the preview shows its problem table and ignored columns.
A11Y_ASSET_LIST = (
    b"Serial number;Brand;Type;RAM (GB);Colour\n"
    b"A11Y-2;Dell;laptop;8;grey\n"
    b";HP;laptop;eight;black\n"
    b"A11Y-2;HP;fridge;4;white\n"
)


def _upload(*, queued: bool) -> str:
    from donations.models import SpreadsheetImport
    from donations.services import spreadsheet_import_create

    donation = _editable_pledge()
    upload = spreadsheet_import_create(
        donor=donation.donor,
        donation=donation,
        actor=get_user_model().objects.get(username="donor-demo"),
        filename="asset-list.csv",
        content=A11Y_ASSET_LIST,
    )
    if queued:  # waiting for a worker: the page shows its progress bar
        SpreadsheetImport.objects.filter(pk=upload.pk).update(status="queued", problem_count=0, problems=[])
        return reverse("donations:import_progress", args=[upload.pk])
    return reverse("donations:import_preview", args=[upload.pk])


def _unverified(username: str, url_name: str) -> str:
    """The page as seen before the e-mail address is confirmed (``_verified_again`` puts it back after)."""
    from hubs.models import EmailVerification

    EmailVerification.objects.filter(user__username=username).delete()
    return reverse(url_name)


def _verified_again(username: str):
    def prepare(page) -> None:
        from hubs.accounts import account_email_mark_verified

        account_email_mark_verified(user=get_user_model().objects.get(username=username))

    return prepare


def _yearly_report(url: str | None = None):
    """donor-demo's current yearly report (the demo issues last year's; the current year's is issued when there is
    none), or ``url`` once it exists."""
    from donations.models import Donor
    from impact.models import YearlyReport
    from impact.reports import yearly_report_current_year, yearly_report_issue

    donor = Donor.objects.get(users__username="donor-demo")
    report = YearlyReport.objects.filter(donor=donor, superseded_by__isnull=True).first()
    if report is None:
        report = yearly_report_issue(donor=donor, year=yearly_report_current_year(), actor=None)
    return url if url is not None else report


def _reissue_without_reason(page) -> None:
    """Ask again for the year already issued without saying what was corrected: the form comes back with its error."""
    form = page.locator("main form").first
    form.locator("select[name=year]").select_option(str(_yearly_report().year))
    with page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    assert page.locator("[data-error-summary]").count() == 1, "the form came back without its error summary"


# Every page people use; later issues add theirs here.
VISITS = [
    Visit("home", None, lambda: reverse("impact:home")),
    Visit("hub page", None, lambda: reverse("impact:hub", kwargs={"code": "KE-NBO"})),
    Visit("public projects", None, lambda: reverse("impact:project-list")),
    Visit("widget", None, lambda: reverse("impact:widget")),
    Visit("login", None, lambda: reverse("login")),
    Visit("sign-up", None, lambda: reverse("donations:signup")),
    Visit("sign-up, with errors", None, lambda: reverse("donations:signup"), _submit_with_mistakes("main form")),
    Visit("password reset", None, lambda: reverse("password_reset")),
    Visit(
        "password reset, too many requests",
        None,
        lambda: reverse("password_reset"),
        _submit_until_refused({"email": "it@example.org"}),
    ),
    Visit(
        "login, locked out",
        None,
        lambda: reverse("login"),
        _submit_until_refused({"username": "donor-demo", "password": "not the password"}),
    ),
    Visit("donor portal", "donor-demo", lambda: reverse("donations:portal")),
    Visit(
        "donation",
        "donor-demo",
        lambda: reverse(
            "donations:detail",
            kwargs={"reference": _first(Donation.objects.filter(donor__users__username="donor-demo")).reference},
        ),
    ),
    Visit(
        "donor device journey",
        "donor-demo",
        lambda: reverse(
            "donations:device",
            args=[
                (device := _first(_demo_devices().filter(state="delivered").order_by("pk"))).donation.reference,
                device.pk,
            ],
        ),
    ),
    Visit(
        "certificate pending (409)",
        "donor-demo",
        lambda: reverse("donations:certificate", args=[_first(_demo_donations(certified=False)).reference]),
        status=409,
    ),
    Visit("your impact", "donor-demo", lambda: reverse("impact:donor-impact")),
    Visit("yearly sustainability reports", "donor-demo", lambda: _yearly_report(reverse("impact:yearly-report-list"))),
    Visit(
        "yearly report, issued twice, with errors",
        "donor-demo",
        lambda: _yearly_report(reverse("impact:yearly-report-list")),
        _reissue_without_reason,
    ),
    Visit(
        "yearly report verification",
        None,
        lambda: _yearly_report(reverse("certificate-verify", args=[_yearly_report().number])),
    ),
    Visit(
        "certificate verification",
        None,
        lambda: reverse(
            "certificate-verify", args=[_first(Certificate.objects.filter(kind="sanitisation").order_by("pk")).number]
        ),
    ),
    Visit("e-Resource commitments", "donor-demo", lambda: reverse("donations:e-resource")),
    Visit(
        "e-Resource commitment, with errors",
        "donor-demo",
        lambda: reverse("donations:e-resource"),
        _submit_with_mistakes("main form"),
    ),
    Visit(
        "e-Resource certificate verification",
        None,
        lambda: reverse(
            "certificate-verify",
            args=[_first(EResourceCommitment.objects.filter(status="covered").order_by("pk")).certificate_number],
        ),
    ),
    Visit("pledge form", "donor-demo", lambda: reverse("donations:pledge")),
    Visit(
        "pledge form, with errors",
        "donor-demo",
        lambda: reverse("donations:pledge"),
        _submit_with_mistakes("main form", "button[type=submit]:not([name])"),
    ),
    Visit("donor team", "donor-demo", lambda: reverse("donations:team")),
    Visit(
        "donor team, invitation with errors",
        "donor-demo",
        lambda: reverse("donations:team"),
        _submit_with_mistakes("main form[action*=invite]"),
    ),
    Visit("invitation", None, lambda: _invitation_url()),
    Visit("invitation, with errors", None, lambda: _invitation_url(), _submit_with_mistakes("main form")),
    Visit("pledge from a spreadsheet", "donor-demo", lambda: reverse("donations:import_pledge")),
    Visit(
        "pledge from a spreadsheet, with errors",
        "donor-demo",
        lambda: reverse("donations:import_pledge"),
        _submit_with_mistakes("main form"),
    ),
    Visit(
        "add devices from a spreadsheet",
        "donor-demo",
        lambda: reverse("donations:import_into", args=[_editable_pledge().reference]),
    ),
    Visit("spreadsheet preview with problems", "donor-demo", lambda: _upload(queued=False)),
    Visit("spreadsheet import progress", "donor-demo", lambda: _upload(queued=True)),
    Visit("change a pledge", "donor-demo", lambda: reverse("donations:edit", args=[_editable_pledge().reference])),
    Visit("cancel a pledge", "donor-demo", lambda: reverse("donations:cancel", args=[_editable_pledge().reference])),
    Visit(
        "editable donation",
        "donor-demo",
        lambda: reverse("donations:detail", args=[_editable_pledge().reference]),
    ),
    Visit("coordinator portal", "coordinator-demo", lambda: reverse("projects:portal")),
    Visit("coordinator applications", "coordinator-demo", lambda: reverse("projects:applications")),
    Visit("application form", "coordinator-demo", lambda: reverse("projects:apply")),
    Visit(
        "application form, with errors",
        "coordinator-demo",
        lambda: reverse("projects:apply"),
        _submit_with_mistakes("main form.stack"),
    ),
    Visit(
        "coordinator project",
        "coordinator-demo",
        lambda: reverse(
            "projects:project", args=[_first(Project.objects.filter(coordinators__username="coordinator-demo")).pk]
        ),
    ),
    Visit("coordinator shipments", "coordinator-demo", lambda: reverse("projects:shipments")),
    Visit(
        "coordinator shipment, delivery form",
        "coordinator-demo",
        lambda: reverse("projects:shipment", args=[_coordinator_shipped().pk]),
    ),
    Visit(
        "coordinator shipment, delivery with errors",
        "coordinator-demo",
        lambda: reverse("projects:shipment", args=[_coordinator_shipped().pk]),
        _submit_with_mistakes("form.confirm"),
    ),
    Visit("hub projects", "manager-ke-mba", lambda: reverse("projects:hub")),
    Visit(
        "hub application review",
        "manager-be-bru",
        lambda: reverse("projects:hub-review", args=[_first(Project.objects.filter(status="submitted")).pk]),
    ),
    Visit(
        "hub request allocation",
        "manager-ke-mba",
        lambda: reverse(
            "projects:hub-request",
            args=[_first(DeviceRequest.objects.filter(project__hub__code="KE-MBA", status="approved")).pk],
        ),
    ),
    Visit(
        "hub shipment",
        "manager-ke-mba",
        lambda: reverse("projects:hub-shipment", args=[_first(Shipment.objects.filter(hub__code="KE-MBA")).pk]),
    ),
    Visit("admin device list", "staff-be-bru", lambda: reverse("admin:refurbishing_device_changelist")),
    Visit(
        "admin device page",
        "staff-be-bru",
        lambda: reverse(
            "admin:refurbishing_device_change",
            args=[_first(Device.objects.filter(hub__code="BE-BRU", state="delivered").order_by("pk")).pk],
        ),
    ),
    # Swagger UI draws the operations in English whatever the page's language (their text is the schema's), so
    # the expanded page, 80 operations open and the costliest of all to check (16 s of axe at each width), is
    # checked once, in English; in French and Dutch the page is checked as it loads: our frame around Swagger
    # UI, its <html lang> and the collapsed operations.
    Visit(
        "API docs, every operation open",
        "staff-be-bru",
        lambda: reverse("api-docs"),
        _open_every_operation,
        languages=frozenset({"en"}),
    ),
    Visit(
        "API docs",
        "staff-be-bru",
        lambda: reverse("api-docs"),
        lambda page: page.wait_for_selector(".opblock-summary-control"),
        languages=frozenset({"fr", "nl"}),
    ),
    Visit("your account", "donor-demo", lambda: reverse("account")),
    Visit("second factor set-up", "donor-demo", lambda: reverse("two-factor-setup")),
    Visit(
        "second factor set-up, with errors",
        "donor-demo",
        lambda: reverse("two-factor-setup"),
        _submit_with_mistakes("main form"),
    ),
    Visit("second factor code", "staff-cd-fih", lambda: _with_authenticator("staff-cd-fih", "two-factor-verify")),
    Visit("scan station, many devices at once", "staff-be-bru", lambda: reverse("scan:bulk")),
    Visit("scan station, wipe samples to re-verify", "staff-be-bru", lambda: reverse("scan:wipe-samples")),
    Visit("evidence for an auditor", "manager-be-bru", lambda: reverse("evidence:start")),
    Visit(
        "evidence for an auditor, with errors",
        "manager-be-bru",
        lambda: reverse("evidence:start"),
        _without("#id_date_from", then=_submit_with_mistakes("main form")),
    ),
    Visit("evidence archive, ready to download", "manager-be-bru", lambda: _evidence_archive("done")),
    Visit("evidence archive, being built", "manager-be-bru", lambda: _evidence_archive("running")),
    Visit("evidence archive, failed", "manager-be-bru", lambda: _evidence_archive("failed")),
    Visit("hub dashboard", "manager-be-bru", lambda: reverse("impact:hub-dashboard", args=["BE-BRU"])),
    Visit(
        "scan station, many devices at once, with errors",
        "staff-be-bru",
        lambda: reverse("scan:bulk"),
        _submit_with_mistakes("main form"),
    ),
    Visit("beneficiary sign-up", None, lambda: reverse("projects:signup")),
    Visit(
        "beneficiary sign-up, with errors",
        None,
        lambda: reverse("projects:signup"),
        _submit_with_mistakes("main form"),
    ),
    Visit("beneficiary organisation's users", "coordinator-demo", lambda: _with_organisation("coordinator-demo")),
    Visit(
        "pledge before the e-mail address is confirmed",
        "donor-demo",
        lambda: _unverified("donor-demo", "donations:pledge"),
        _verified_again("donor-demo"),
        status=403,
    ),
    Visit(
        "application before the e-mail address is confirmed",
        "coordinator-demo",
        lambda: _unverified("coordinator-demo", "projects:apply"),
        _verified_again("coordinator-demo"),
        status=403,
    ),
    Visit("your data", "donor-demo", lambda: reverse("my-data")),
    Visit("delete your account", "donor-demo", lambda: reverse("account-delete")),
    Visit("scan station", "staff-be-bru", lambda: reverse("scan:station")),
    Visit("scan station, unknown code", "staff-be-bru", lambda: reverse("scan:station"), _scan("NO-SUCH-CODE")),
    Visit(
        "scan station, a device and its history",
        "staff-be-bru",
        lambda: reverse(
            "scan:device",
            args=[_first(Device.objects.filter(hub__code="BE-BRU", state="delivered").order_by("pk")).label_code],
        ),
    ),
    Visit(
        "scan station, sanitise form",
        "staff-be-bru",
        lambda: reverse(
            "scan:device-action",
            args=[
                _first(
                    Device.objects.filter(hub__code="BE-BRU", state="received", has_storage_media=True).order_by("pk")
                ).label_code,
                "sanitise",
            ],
        ),
    ),
    Visit("check-in, start", "staff-be-bru", lambda: reverse("check-in:start")),
    Visit(
        "check-in of a donation, a device that was not pledged",
        "staff-be-bru",
        lambda: reverse(
            "check-in:donation",
            args=[_first(Donation.objects.filter(hub__code="BE-BRU", status="pledged").order_by("pk")).reference],
        ),
        _scan("NOT-PLEDGED-1", field="#id_scan", outcome="refused"),
    ),
]


def _evidence_archive(status: str) -> str:
    """The page of a Brussels evidence archive, as its manager sees it: built (for the week to today, through the
    service and its task, which runs in-process here), or as the page shows one being built or one that failed."""
    from donations.models import EvidenceArchive
    from donations.services import evidence_archive_start

    manager, hub = get_user_model().objects.get(username="manager-be-bru"), _first(Hub.objects.filter(code="BE-BRU"))
    today = timezone.localdate()
    if status == "done":
        archive = evidence_archive_start(actor=manager, hub=hub, date_from=today - timedelta(days=7), date_to=today)
        archive.refresh_from_db()
        assert archive.status == "done", archive.error
    else:
        # Stopped where a worker would be partway (or where it gave up): the states the page shows while waiting.
        archive = EvidenceArchive.objects.create(
            hub=hub, date_from=today, date_to=today, requested_by=manager, status=status, total=7, done=3
        )
    return reverse("evidence:archive", args=[archive.pk])


def _with_organisation(username: str) -> str:
    """The team page of a beneficiary organisation the coordinator belongs to (the demo has none)."""
    from projects.models import BeneficiaryOrganisation

    organisation, _created = BeneficiaryOrganisation.objects.get_or_create(
        name="Lycée Technique de Bukavu",
        defaults={"country": "CD", "place": "Bukavu", "contact_name": "Amani", "contact_phone": "+243 99 000 0000"},
    )
    organisation.users.add(get_user_model().objects.get(username=username))
    return reverse("projects:team")


def _with_authenticator(username: str, url_name: str) -> str:
    """The page as seen by someone with an authenticator app set up (the demo accounts have none)."""
    user = get_user_model().objects.get(username=username)
    TOTPDevice.objects.get_or_create(user=user, name="authenticator", defaults={"confirmed": True})
    return reverse(url_name)


def _invitation_url() -> str:
    """A fresh invitation to the demo donor, for an address with no account yet: the page that sets a password."""
    donor = _first(Donor.objects.filter(users__username="donor-demo"))
    invitation = Invitation.objects.create(kind="donor", target_id=donor.pk, email="new-colleague@demo.example")
    return reverse("invitation-accept", kwargs={"token": invitation_token(invitation=invitation)})


def _public_project_visit() -> Visit:
    return Visit(
        "public project",
        None,
        lambda: reverse("impact:project", args=[_first(Project.objects.filter(public=True).order_by("pk")).pk]),
    )


VISITS.insert(3, _public_project_visit())
# Hardware reports (issue 9): the upload page, empty and with its errors, and the per-drive wipe form in the admin.
VISITS.extend(
    [
        Visit("hardware report upload", "staff-be-bru", lambda: reverse("snapshots:upload")),
        Visit(
            "hardware report upload, with errors",
            "staff-be-bru",
            lambda: reverse("snapshots:upload"),
            _submit_with_mistakes("main form"),
        ),
        Visit("admin drive wipe form", "staff-be-bru", lambda: reverse("admin:refurbishing_drivesanitisation_add")),
    ]
)
# Running a hub (issue 10): e-waste batches and transfers between hubs.
VISITS.extend(
    [
        Visit(
            "admin recycling batches", "staff-be-bru", lambda: reverse("admin:refurbishing_recyclingbatch_changelist")
        ),
        Visit(
            "admin close a recycling batch",
            "manager-be-bru",
            lambda: reverse(
                "admin:refurbishing_recyclingbatch_close",
                args=[_first(RecyclingBatch.objects.filter(hub__code="BE-BRU", status="open")).pk],
            ),
        ),
        Visit(
            "admin send devices to another hub", "manager-be-bru", lambda: reverse("admin:refurbishing_transfer_add")
        ),
        Visit("transfer check-in, start", "staff-ke-mba", lambda: reverse("scan:transfers")),
        Visit(
            "transfer check-in, a code not in it",
            "staff-ke-mba",
            lambda: reverse(
                "scan:transfer", args=[_first(Transfer.objects.filter(to_hub__code="KE-MBA", status="shipped")).pk]
            ),
            _scan("NOT-IN-IT", field="#id_scan", outcome="refused"),
        ),
    ]
)

# Hub kinds and downstream vendors (issue 18): a partner-run site's public page, the kinds in the admin, and a
# vendor with its certificates (valid, expiring, expired) inline.
VISITS.extend(
    [
        Visit("hub page, partner-run site", None, lambda: reverse("impact:hub", kwargs={"code": "CD-FIH"})),
        Visit("admin hub kinds", "staff-be-bru", lambda: reverse("admin:hubs_hubkind_changelist")),
        Visit(
            "admin downstream vendor with its certificates",
            "staff-ke-mba",
            lambda: reverse(
                "admin:refurbishing_recyclingpartner_change",
                args=[RecyclingPartner.objects.get(name="Mombasa E-Waste Recyclers").pk],
            ),
        ),
    ]
)

# Running a hub (issue 10): a finished bulk action with its refusals, and a hub's dashboard for its manager.


def _bulk_job() -> str:
    from refurbishing.models import BulkJob

    staff = get_user_model().objects.get(username="staff-be-bru")
    device = _first(Device.objects.filter(hub__code="BE-BRU").order_by("pk"))
    job = BulkJob.objects.create(
        actor=staff,
        action="receive",
        device_ids=[device.pk, device.pk + 1],
        total=2,
        done=2,
        moved=1,
        refused=[{"id": device.pk, "device": str(device), "reason": "Only pledged devices can be received."}],
        status=BulkJob.Status.DONE,
    )
    return reverse("scan:bulk-job", args=[job.pk])


VISITS.extend(
    [
        Visit("bulk action progress", "staff-be-bru", _bulk_job),
        Visit("hub dashboard", "manager-be-bru", lambda: reverse("impact:hub-dashboard", args=["BE-BRU"])),
    ]
)

# Partners acting for a hub (issue 18): the partner's scan card and device list, and the hub's work orders.


def _partner_device_card() -> str:
    from refurbishing.models import WorkOrder

    order = _first(WorkOrder.objects.filter(partner__name="Flection Refurbishment Services", status="open"))
    return reverse("scan:device", args=[_first(order.devices.order_by("pk")).label_code])


def _work_order_page() -> str:
    from refurbishing.models import WorkOrder

    return reverse(
        "admin:refurbishing_workorder_change", args=[_first(WorkOrder.objects.filter(hub__code="BE-BRU")).pk]
    )


VISITS.extend(
    [
        Visit("scan station, a partner's device", "partner-flection", _partner_device_card),
        Visit(
            "admin device list, a partner's",
            "partner-flection",
            lambda: reverse("admin:refurbishing_device_changelist"),
        ),
        Visit("admin work orders", "manager-be-bru", lambda: reverse("admin:refurbishing_workorder_changelist")),
        Visit("admin work order page", "manager-be-bru", _work_order_page),
    ]
)


# Large yearly reports and offline moves (issues 17 and 19): a spreadsheet being built or failed, and the
# offline moves a hub's managers review in the admin and on their dashboard.


def _yearly_report_xlsx(status: str) -> str:
    """The progress page of donor-demo's yearly report spreadsheet in the page's language, as a worker leaves it
    partway or when it gave up (a job is one language's file, so each language's visit makes its own)."""
    from impact.models import YearlyReportXlsx

    report = _yearly_report()
    YearlyReportXlsx.objects.update_or_create(
        report=report,
        language=translation.get_language(),
        defaults={"status": status, "total": 120_000, "done": 48_000, "verify_url": "/verify/"}
        | ({"error": "The worker stopped: out of disk space."} if status == "failed" else {}),
    )
    return reverse("impact:yearly-report-xlsx", args=[report.number])


def _offline_moves_to_review(url: str) -> str:
    """``url``, once Brussels has offline moves to review: one in conflict (the device moved after the station
    cached it) and one refused by a guard (inspected before its wipe), by the hub's technician."""
    from refurbishing.factories import offline_move_sent
    from refurbishing.models import SyncedMove

    if not SyncedMove.objects.filter(device__hub__code="BE-BRU").exists():
        staff = get_user_model().objects.get(username="staff-be-bru")
        devices = Device.objects.filter(hub__code="BE-BRU").order_by("pk")
        unwiped, moved = devices.filter(state="received", has_storage_media=True)[:2]
        refused = offline_move_sent(unwiped, "inspect", actor=staff, fields={"passed": "true", "grade": "A"})
        conflict = offline_move_sent(moved, "mark_missing", actor=staff, version=moved.version - 1)
        assert (refused.outcome, conflict.outcome) == ("refused", "conflict")
    return url


VISITS.extend(
    [
        Visit("yearly report spreadsheet, being built", "donor-demo", lambda: _yearly_report_xlsx("running")),
        Visit("yearly report spreadsheet, failed", "donor-demo", lambda: _yearly_report_xlsx("failed")),
        Visit(
            "admin offline moves to review",
            "manager-be-bru",
            lambda: _offline_moves_to_review(reverse("admin:refurbishing_syncedmove_changelist")),
        ),
        Visit(
            "hub dashboard, offline moves to review",
            "manager-be-bru",
            lambda: _offline_moves_to_review(reverse("impact:hub-dashboard", args=["BE-BRU"])),
        ),
        Visit("scan station, a page it cannot serve offline", "staff-be-bru", lambda: reverse("scan:offline")),
    ]
)


@cache
def _axe_source() -> str:
    return AXE_JS.read_text()


def _session_cookie(username: str, live_server_url: str) -> dict:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server_url,
    }


def _axe(page) -> list[dict]:
    # axe-core is in every page of the context from its first script on (``add_init_script``, below): sent to
    # Chromium once, not with every page (half a megabyte over the DevTools protocol each time, most of this
    # test's time). The protocol is not governed by the pages' Content-Security-Policy, as an added <script> tag
    # would be (inline script, refused there as a site's injected script would be).
    # noHtml: the nodes' markup is left out of the results (the report names each by its selector): ~15% faster.
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations'], noHtml: true})")
    return results["violations"]


class Findings:
    """What axe found over a test's pages: serious and critical ones fail the test, the rest are printed."""

    def __init__(self, language: str) -> None:
        self.language, self.blocking, self.moderate = language, [], []

    def check(self, page, name: str, widths) -> None:
        """axe over the loaded page at each of ``widths`` in turn (the viewport changes; the page is not reloaded:
        its CSS answers the new width as a phone's browser would, media queries being live)."""
        shown_lang = page.get_attribute("html", "lang")
        if shown_lang != self.language:
            self.blocking.append(f"[{self.language}] {name}: <html lang={shown_lang!r}>, not {self.language!r}")
        for width_name, (width, height) in widths:
            page.set_viewport_size({"width": width, "height": height})
            for violation in _axe(page):
                line = (
                    f"[{self.language} {width_name}] {name}: {violation['impact']} {violation['id']} "
                    f"x{len(violation['nodes'])}: {violation['help']} "
                    f"{json.dumps([node['target'] for node in violation['nodes'][:3]])}"
                )
                (self.blocking if violation["impact"] in BLOCKING else self.moderate).append(line)

    def report(self, capsys, title: str) -> None:
        with capsys.disabled():
            print(f"\naxe [{title}]: {len(self.blocking)} serious/critical, {len(self.moderate)} moderate/minor")
            for line in self.moderate:
                print("  moderate/minor:", line)
        assert not self.blocking, "axe found serious or critical violations:\n" + "\n".join(self.blocking)


@pytest.fixture
def demo_site(settings, demo_data):  # demo_data clears the cache: no rate-limit window left from another run
    # The refusal pages: a sign-in locks after one failure, and every password-reset request is over the limit.
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 1
    settings.RATE_LIMITS_ENABLED = True
    # Sign-up is limited too, but three forms share its window (donors', beneficiaries' and invitations), each
    # sent with mistakes at both widths: room for all of them.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "0/h", "signup": "100/h"}


# Each language's visits in two halves, each its own test: six tests of about a minute pack onto the cores
# (pytest-xdist) better than three of two, and each half starts from the demo data and a fresh cache.
PARTS = 2


@pytest.mark.parametrize("part", range(1, PARTS + 1))
@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_every_page_has_no_serious_or_critical_axe_violation(live_server, browser, demo_site, language, part, capsys):
    if not AXE_JS.exists():
        pytest.fail("axe-core is not installed: run `npm ci` (make test does when npm is present)")
    findings = Findings(language)
    # One load per page: axe runs at the first width, the viewport changes, and axe runs again. The page's CSS
    # answers the new width as a phone's browser would (media queries are live), and a form sent with mistakes
    # is sent once, so each visit costs one navigation and one `prepare` however many widths are checked.
    first_size = next(iter(WIDTHS.values()))
    context = browser.new_context(viewport={"width": first_size[0], "height": first_size[1]}, locale=language)
    context.add_init_script(script=_axe_source())
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page = None
    for number, visit in enumerate(VISITS):
        if number % PARTS != part - 1 or (visit.languages is not None and language not in visit.languages):
            continue
        # The test's own reads and writes take the server's turn: the last page may still be sending requests
        # (the scan station's cache, a progress page's polling) over the one SQLite connection.
        with LIVE_SERVER_LOCK:
            if visit.user:
                context.add_cookies([_session_cookie(visit.user, live_server.url)])
            else:
                context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
            with translation.override(language):
                url = live_server.url + visit.url()
        # One tab for every visit, as a person browsing: a new tab costs a third of a second each (the init
        # script set up again), and a navigation gives each page a fresh document anyway.
        if page is None:
            page = context.new_page()
        response = page.goto(url)
        assert response is not None and response.status == visit.status, (
            f"{visit.name} ({url}) answered {response and response.status}"
        )
        if visit.prepare:
            visit.prepare(page)
        findings.check(page, visit.name, WIDTHS.items())
    context.close()
    findings.report(capsys, f"{language}, part {part}")


# The offline scan station (issue 17): its states exist only in a browser that lost its connection, so they get a
# test of their own, in each language. The test takes the live server's turn (``LIVE_SERVER_LOCK``, conftest's
# ``live_server``) around its own writes, and waits on the states the page announces (``data-*``), as
# tests/test_browser_offline.py does.


def _station_scan(page, code: str) -> None:
    page.locator("#scan-code").fill(code)
    page.locator("#scan-code").press("Enter")
    page.wait_for_selector(f"#scan-result [data-scan-outcome='offline-device'] [data-slot='serial']:text-is('{code}')")


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_offline_station_states_have_no_serious_or_critical_axe_violation(
    live_server, browser, hubs, staff_be, manager_be, staff_ke_mba, language, capsys
):
    from refurbishing.factories import DeviceFactory, device_through
    from tests.test_browser_offline import _context, _settled, _travelling, _wait_controlled, _wait_state

    if not AXE_JS.exists():
        pytest.fail("axe-core is not installed: run `npm ci` (make test does when npm is present)")
    with LIVE_SERVER_LOCK:
        moved = DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="AXE-CONFLICT", has_storage_media=False)
        unwiped = DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="AXE-REFUSE", has_storage_media=True)
        device_through(unwiped, "receive", actor=staff_ke_mba)
        DeviceFactory(donation__hub=hubs["KE-MBA"], serial_number="AXE-SIGN-IN")
        _settled()
        transfer, (travelling,) = _travelling(hubs, staff_be, manager_be, count=1)  # a container on its way
    context = _context(browser, staff_ke_mba, live_server)
    context.add_init_script(script=_axe_source())
    page = context.new_page()
    with translation.override(language):
        station = live_server.url + reverse("scan:station")
    findings = Findings(language)

    def check(state: str) -> None:
        findings.check(page, f"offline station, {state}", WIDTHS.items())

    page.goto(station)
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "cache-count", "3")
    _wait_state(page, "transfer-count", "1")  # fetched after the devices: kept before the connection goes
    _wait_controlled(page)
    context.set_offline(True)
    page.reload()  # the shell from the worker, the devices from IndexedDB
    _wait_state(page, "offline-ready", "true")
    _wait_state(page, "transfer-count", "1")
    check("opened offline, nothing waiting")

    choice = page.locator("#scan-transfer")
    choice.select_option(str(transfer.pk))
    page.locator("#scan-code").fill("AXE-CONFLICT")
    page.locator("#scan-code").press("Enter")
    page.wait_for_selector("#scan-result [data-scan-outcome='not-in-transfer']")
    check("a transfer chosen, a code it does not carry")
    page.locator("#scan-code").fill(travelling.serial_number)
    page.locator("#scan-code").press("Enter")
    _wait_state(page, "queue-count", "1")
    check("a transfer's device checked in, waiting")
    page.locator("#offline-queue [data-drop]").click()
    _wait_state(page, "queue-count", "0")
    choice.select_option("")

    _station_scan(page, "AXE-CONFLICT")
    check("a device found in the cache")
    page.locator("[data-offline-action='receive']").click()
    _wait_state(page, "queue-count", "1")
    _station_scan(page, "AXE-REFUSE")
    page.locator("[data-offline-action='sanitise']").click()
    form = page.locator("form[data-offline-form='sanitise']")
    check("a move's form, one move waiting")
    form.locator("[name=technique]").fill("ATA Secure Erase")
    form.locator("[name=tool]").fill("nwipe")
    form.locator("button[type=submit]").click()  # a wipe without its verification: the server will refuse it
    _wait_state(page, "queue-count", "2")
    check("two moves waiting")

    with LIVE_SERVER_LOCK:  # meanwhile another technician, online, marks the first device missing: a conflict
        device_through(Device.objects.get(pk=moved.pk), "mark_missing", actor=staff_ke_mba)
    context.set_offline(False)
    _wait_state(page, "sync-state", "done")
    assert (
        page.locator("[data-answer='conflict']").count() == 1 and page.locator("[data-answer='refused']").count() == 1
    )
    check("the answers of a sync: a conflict and a refusal")

    context.set_offline(True)
    _station_scan(page, "AXE-SIGN-IN")
    page.locator("[data-offline-action='receive']").click()
    _wait_state(page, "queue-count", "1")
    context.clear_cookies()  # the session ended while the station was offline
    context.set_offline(False)
    _wait_state(page, "sync-state", "signin")
    check("asked to sign in again, the queue kept")
    context.close()
    findings.report(capsys, f"{language}, offline station")
