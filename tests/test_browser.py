"""The public pages in a real Chromium: figures change on an open page (and in a partner's widget) without a reload,
and are announced politely; forms work by keyboard alone, and their errors are summarised where the focus goes."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.cache import cache
from django.urls import reverse

from donations.models import Donor
from impact import views as impact_views
from impact.services import impact_fold_events
from projects.factories import ProjectFactory, shipment_delivered
from projects.models import Project
from refurbishing.factories import DeviceFactory, devices_received
from refurbishing.services import device_transition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(page, monkeypatch):
    # The pages read their poll period from data-live-period; a short one keeps these tests quick.
    monkeypatch.setattr(impact_views, "LIVE_PERIOD_MS", 300)
    monkeypatch.setattr(impact_views, "WIDGET_PERIOD_MS", 300)
    return page


@pytest.fixture
def partner_site():
    """Serves one page from 127.0.0.1 (the site is on localhost: another origin, as a partner's page would be)."""
    servers = []

    def serve(html: str) -> str:
        body = html.encode()

        class Partner(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Partner)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def wait_for_text(page_or_frame, selector, text):
    page_or_frame.wait_for_function(
        "([selector, text]) => { const el = document.querySelector(selector); return el && el.textContent === text; }",
        arg=[selector, text],
        timeout=20_000,
    )


def test_open_home_page_updates_environment_country_and_kind_figures(live_server, page, hubs, staff_ke_nbo):
    cache.clear()
    project = ProjectFactory(hub=hubs["KE-NBO"], kind=Project.Kind.MEDICAL)
    page.goto(live_server.url + "/")
    assert page.locator('[data-env="co2e_avoided_by_reuse_kg"]').inner_text() == "0"
    assert page.locator("[data-live-period]").get_attribute("data-live-period") == "300"

    # Each transition folds and refreshes the summary after commit (eager Celery in tests).
    shipment_delivered(project=project, actor=staff_ke_nbo, count=1, beneficiaries=25)

    wait_for_text(page, '[data-env="co2e_avoided_by_reuse_kg"]', "69")
    wait_for_text(page, '[data-kind="medical"][data-metric="beneficiaries_reached"]', "25")
    wait_for_text(page, '[data-country="KE"][data-metric="devices_delivered"]', "1")
    assert page.locator('[data-metric="devices_delivered"]').first.inner_text() == "1"  # headline untouched by rows
    assert page.locator('[data-kind="education"][data-metric="beneficiaries_reached"]').text_content() == "0"


def test_widget_script_frames_the_live_widget_on_a_partner_page(live_server, page, partner_site, hubs, staff_ke_nbo):
    cache.clear()
    partner = (
        "<!doctype html><title>Partner</title><h1>Our partners</h1>"
        f'<p><script src="{live_server.url}/static/js/impact-widget.js" data-closegap-widget data-lang="fr" '
        'data-title="Impact en direct de Close the Gap" async></script></p>'
    )
    page.goto(partner_site(partner))
    # The snippet as the French home page gives it: the frame shows the French widget and is named in French.
    frame_element = page.wait_for_selector('iframe[title="Impact en direct de Close the Gap"]')
    assert frame_element.get_attribute("src") == live_server.url + "/fr/widget/"
    frame = frame_element.content_frame()
    frame.wait_for_selector('[data-metric="devices_received"]')
    assert frame.locator('[data-metric="devices_received"]').inner_text() == "0"

    devices_received(2, hub=hubs["KE-NBO"], actor=staff_ke_nbo)

    wait_for_text(frame, '[data-metric="devices_received"]', "2")
    # The frame told the partner page its height, and the page sized the frame to it.
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe'); return f.style.height !== '190px'; }", timeout=10_000
    )


def headline(page, metric):
    return page.locator(f'[data-metric="{metric}"]:not([data-hub])').first.inner_text()


def test_a_transition_shows_on_the_open_home_page_without_reload(live_server, page, hubs, staff_ke_mba):
    cache.clear()
    devices = DeviceFactory.create_batch(2, donation__hub=hubs["KE-MBA"])
    impact_fold_events()
    page.goto(live_server.url + "/")
    assert headline(page, "devices_received") == "0"
    page.evaluate("window.__notReloaded = true")

    device_transition(device=devices[0], action="receive", actor=staff_ke_mba)
    device_transition(device=devices[1], action="receive", actor=staff_ke_mba)

    page.wait_for_function(
        """() => document.querySelector('[data-metric="devices_received"]:not([data-hub])').textContent === "2" """,
        timeout=20_000,
    )
    hub_cell = page.locator('[data-hub="KE-MBA"][data-metric="devices_received"]').first.inner_text()
    assert hub_cell == "2"
    assert page.evaluate("window.__notReloaded") is True


def test_live_figures_are_announced_politely_and_only_when_one_changes(live_server, page, hubs, staff_ke_nbo):
    cache.clear()
    page.goto(live_server.url + reverse("impact:home"))
    status = page.locator("[data-live-status]")
    assert status.get_attribute("role") == "status"
    assert status.get_attribute("aria-live") == "polite"
    # The figures themselves are not live regions: a screen reader would read out every changed cell.
    assert page.evaluate(
        "() => [...document.querySelectorAll('[data-metric], [data-env]')].every(el => !el.closest('[aria-live]'))"
    )
    page.evaluate(
        """() => {
            window.__announced = [];
            const status = document.querySelector("[data-live-status]");
            new MutationObserver(() => { if (status.textContent) window.__announced.push(status.textContent); })
                .observe(status, { childList: true, characterData: true, subtree: true });
        }"""
    )
    page.wait_for_timeout(1_500)  # five polls with nothing new
    assert page.evaluate("window.__announced") == []

    devices_received(1, hub=hubs["KE-NBO"], actor=staff_ke_nbo)

    page.wait_for_function("() => window.__announced.length > 0", timeout=20_000)
    page.wait_for_timeout(1_500)  # five more polls: the same figures are not announced again
    announced = page.evaluate("window.__announced")
    assert announced == ["Figures updated: 1 devices received."]


def test_a_form_error_takes_the_keyboard_to_a_summary_linking_each_field(live_server, page):
    """Sign-up by keyboard alone: a mistake moves the focus to the summary, whose links lead into the fields."""
    page.goto(live_server.url + reverse("donations:signup"))
    # The cursor starts in the first field (autofocus, applied once the page is drawn: wait for it, not a keystroke).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_legal_name'")
    page.keyboard.type("Acme Logistics NV")
    page.keyboard.press("Tab")
    page.keyboard.type("BE1")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.evaluate("document.activeElement.id") == "error-summary"
    links = page.locator("#error-summary a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "#id_registration_number",
        "#id_country",
        "#id_address",
        "#id_contact_name",
        "#id_contact_phone",
        "#id_email",
        "#id_password1",
        "#id_password2",
    ]
    assert links.first.inner_text() == "Registration or VAT number: Enter the full registration or VAT number."
    assert links.nth(1).inner_text() == "Country: This field is required."

    page.keyboard.press("Tab")  # from the summary to its first link, and through it into the field
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#id_registration_number"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_registration_number"

    # The rest of the form, still by keyboard alone: Tab from field to field. Each value is checked once typed, so a
    # keystroke lost or landing in the wrong field on a slow machine shows where it happened.
    page.keyboard.press("Control+A")
    page.keyboard.type("BE0123456789")
    assert page.input_value("#id_registration_number") == "BE0123456789"
    for field, text, value in [
        # The country is chosen from the list by typing its name (the select's type-ahead), never cut short.
        ("id_country", "Belgium", "BE"),
        ("id_address", "Rue de la Loi 16, Brussels", None),
        ("id_contact_name", "Sofie Claes", None),
        ("id_contact_phone", "+32 2 555 01 16", None),
        ("id_email", "it@acme.example", None),
        ("id_password1", "kQ7-vRt2-mZ9p", None),
        ("id_password2", "kQ7-vRt2-mZ9p", None),
    ]:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == field
        page.keyboard.type(text)
        assert page.input_value(f"#{field}") == (value or text)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == live_server.url + reverse("donations:pledge")
    donors = list(Donor.objects.values_list("legal_name", "registration_number", "country"))
    assert ("Acme Logistics NV", "BE0123456789", "BE") in donors, donors


def test_a_login_error_summary_takes_the_focus_and_links_to_the_first_field(live_server, page, donor_user):
    page.goto(live_server.url + reverse("login"))
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_username'")
    page.keyboard.type(donor_user.username)
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary a").get_attribute("href") == "#id_username"


def test_pages_run_under_the_strict_content_security_policy(live_server, page, hubs, staff_ke_nbo, donor_user):
    """No inline script or style is left: the browser reports no CSP violation, and the pages' scripts run."""
    cache.clear()
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    page.goto(live_server.url + reverse("impact:home"))
    assert "frame-ancestors 'none'" in page.evaluate(
        "() => fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    devices_received(1, hub=hubs["KE-NBO"], actor=staff_ke_nbo)
    wait_for_text(page, '[data-metric="devices_received"]:not([data-hub])', "1")  # the live script still works

    page.goto(live_server.url + reverse("impact:widget"))
    devices_received(1, hub=hubs["KE-NBO"], actor=staff_ke_nbo)
    wait_for_text(page, '[data-metric="devices_received"]', "2")

    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", donor_user.username)
    page.fill("#id_password", donor_user.username)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(live_server.url + reverse("donations:portal"))
    assert page.locator("h1").count() == 1

    page.goto(live_server.url + reverse("api-docs"))
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)  # Swagger UI started from js/swagger-init.js

    assert violations == []
