"""The public pages: home charts and environment estimate, hub pages, public project pages and the widget."""

import re
import threading
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from hubs.models import Hub
from impact import views as impact_views
from impact.models import EmissionFactor, Metric, OpeningBalance
from impact.selectors import impact_monthly_window
from impact.services import impact_fold_events
from projects.models import Project
from projects.services import project_allocate_device, shipment_deliver, shipment_ship
from refurbishing.services import device_transition
from tests.factories import DeviceFactory, ProjectFactory, StaffFactory, UserFactory

FIRST_LOAD_LIMIT = 150 * 1024


@pytest.fixture(autouse=True)
def _fresh_impact_cache():
    # The public figures are served from the cache; every test starts from what its own database says.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_ke_nbo(hubs):
    return StaffFactory(username="staff-ke-nbo", hub=hubs["KE-NBO"])


def received(hub, staff, count=1):
    devices = DeviceFactory.create_batch(count, donation__hub=hub)
    for device in devices:
        device_transition(device=device, action="receive", actor=staff)
    return devices


def deliver(*, hub, staff, project, count, beneficiaries, sanitisation):
    """``count`` laptops through the whole lifecycle into one delivered shipment of ``project``."""
    for device in received(hub, staff, count):
        device_transition(device=device, action="sanitise", actor=staff, record=sanitisation)
        device_transition(device=device, action="inspect", actor=staff, record={"passed": True, "grade": "A"})
        device_transition(device=device, action="configure", actor=staff)
        project_allocate_device(device=device, project=project, actor=staff)
    shipment = shipment_ship(shipment=project.shipments.get(status="preparing"), actor=staff)
    return shipment_deliver(shipment=shipment, actor=None, beneficiaries=beneficiaries)


def recycle(*, hub, staff, weight_kg, sanitisation):
    (device,) = received(hub, staff)
    device_transition(device=device, action="sanitise", actor=staff, record=sanitisation)
    device_transition(device=device, action="inspect", actor=staff, record={"passed": False, "notes": "Dead board"})
    device_transition(device=device, action="recycle", actor=staff, data={"weight_kg": weight_kg})


def static_paths(html):
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


# --- home ---------------------------------------------------------------------------------------------------


@pytest.fixture
def activity(hubs, staff_ke_nbo, sanitisation):
    """Two laptops delivered to a Nairobi school (30 people), one 2.5 kg device recycled, folded."""
    project = ProjectFactory(hub=hubs["KE-NBO"], kind=Project.Kind.EDUCATION, name="Kibera coding club")
    deliver(
        hub=hubs["KE-NBO"], staff=staff_ke_nbo, project=project, count=2, beneficiaries=30, sanitisation=sanitisation
    )
    recycle(hub=hubs["KE-NBO"], staff=staff_ke_nbo, weight_kg="2.5", sanitisation=sanitisation)
    impact_fold_events()
    cache.clear()
    return project


def test_home_shows_charts_each_with_its_table(client, activity):
    html = client.get(reverse("impact:home")).content.decode()

    charts = re.findall(r'<svg class="chart"[^>]*role="img"[^>]*aria-label="([^"]+)"', html)
    assert charts == [
        "Devices received and delivered, last 24 months",
        "Devices delivered by hub",
        "Devices delivered by project kind",
        "People reached by project kind",
    ]
    this_month = timezone.now().strftime("%Y-%m")
    # The monthly table, behind its chart: 3 received (2 delivered + 1 recycled), 2 delivered, 30 people.
    assert re.search(
        rf'<th scope="row">{this_month}</th><td class="num">3</td><td class="num">2</td><td class="num">30</td>', html
    )
    assert html.count("<details>") == 2
    assert f"<title>{this_month} Devices delivered: 2</title>" in html
    assert re.search(r'<a href="/hubs/KE-NBO/">Hub KE-NBO</a>', html)
    assert re.search(r'data-kind="education" data-metric="devices_delivered">2<', html)
    assert re.search(r'data-kind="education" data-metric="beneficiaries_reached">30<', html)
    assert re.search(
        r'<th scope="row">Kenya</th>\s*<td class="num" data-country="KE" data-metric="devices_received">3<', html
    )
    assert re.search(r'data-country="KE" data-metric="beneficiaries_reached">30<', html)


def test_home_shows_the_environment_estimate_with_each_factor_and_its_source(client, activity):
    EmissionFactor.objects.filter(applies_to="laptop").update(source_url="https://example.org/puc-laptops")
    cache.clear()

    html = client.get(reverse("impact:home")).content.decode()

    assert "Environmental impact (estimate)" in html
    assert "An estimate, not a measurement" in html
    # 2 laptops x 69 kg reused = 138; 2.5 kg recycled x 1.44 = 3.6 -> 3 (whole kg); 141 in all.
    assert re.search(r'data-env="co2e_avoided_by_reuse_kg">138<', html)
    assert re.search(r'data-env="co2e_avoided_by_recycling_kg">3<', html)
    assert re.search(r'data-env="co2e_avoided_kg">141<', html)
    assert re.search(r'data-env="ewaste_diverted_kg">2.5<', html)
    assert "times the avoided manufacturing emissions" in html  # the method, as the JSON states it
    factors = list(EmissionFactor.objects.all())
    assert len(factors) == 5
    for factor in factors:
        assert f'<th scope="row">{factor.label}</th>' in html
        assert factor.source in html
    assert '<a href="https://example.org/puc-laptops" rel="noopener">PUC Belgium' in html
    assert re.search(r'<td class="num">69 per device</td>', html)
    assert re.search(r'<td class="num">1.44 per kg</td>', html)


def test_home_first_load_with_its_local_assets_stays_under_150_kb(client, activity, capsys):
    response = client.get(reverse("impact:home"))
    html = response.content
    assets = static_paths(html.decode())
    assert sorted(assets) == ["/static/css/site.css", "/static/js/impact-live.js"]
    assert not re.search(rb'<(?:link|script|img)[^>]+(?:href|src)="(?:https?:)?//', html)  # no CDN, no remote image

    sizes = {"html": len(html)}
    for path in assets:
        asset = client.get(path)
        assert asset.status_code == 200, path
        sizes[path] = len(b"".join(asset.streaming_content) if asset.streaming else asset.content)
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\nhome first load: {total:,} bytes uncompressed {sizes}")
    assert all(size > 1000 for size in sizes.values())  # really fetched, not an empty 404 page
    assert total < FIRST_LOAD_LIMIT


def test_home_runs_no_query_once_the_summary_is_cached(client, activity, django_assert_num_queries):
    client.get(reverse("impact:home"))  # builds the summary into the cache

    with django_assert_num_queries(0):
        response = client.get(reverse("impact:home"))

    assert response.status_code == 200
    assert re.search(r'data-metric="devices_delivered">2<', response.content.decode())


def test_home_polls_live_with_a_period_from_the_page_and_documents_reuse(client, hubs):
    html = client.get(reverse("impact:home")).content.decode()

    assert re.search(r'data-live-url="/api/v1/impact/" data-live-period="5000"', html)
    assert "Use our figures" in html
    assert (
        "&lt;script src=&quot;http://testserver/static/js/impact-widget.js&quot; data-closegap-widget async&gt;"
        in html.replace('"', "&quot;")
    )
    assert "&lt;iframe src=&quot;http://testserver/widget/&quot;" in html.replace('"', "&quot;")
    assert '<a href="/api/v1/impact/">http://testserver/api/v1/impact/</a>' in html


def test_live_script_reads_its_period_and_revalidates_with_the_etag(client):
    script = b"".join(client.get("/static/js/impact-live.js").streaming_content).decode()

    assert 'getAttribute("data-live-period")' in script
    assert 'cache: "no-cache"' in script
    for attribute in ("data-hub", "data-country", "data-kind", "data-env"):
        assert f'"{attribute}"' in script


def test_monthly_window_is_the_last_24_months_with_gaps_as_zeros():
    monthly = [
        {"month": "2023-01", "devices_received": 9, "devices_delivered": 9, "beneficiaries_reached": 9},
        {"month": "2024-03", "devices_received": 5, "devices_delivered": 2, "beneficiaries_reached": 40},
    ]

    window = impact_monthly_window(monthly, months=24, today=date(2025, 2, 14))

    assert len(window) == 24
    assert window[0]["month"] == "2023-03" and window[-1]["month"] == "2025-02"
    march = next(row for row in window if row["month"] == "2024-03")
    assert march == monthly[1]
    assert window[0] == {"month": "2023-03", "devices_received": 0, "devices_delivered": 0, "beneficiaries_reached": 0}


# --- hub pages ----------------------------------------------------------------------------------------------


def test_hub_page_shows_totals_with_its_opening_balance_months_kinds_and_public_projects(client, activity, hubs):
    OpeningBalance.objects.create(hub=hubs["KE-NBO"], metric=Metric.DEVICES_RECEIVED, value=5_000)
    OpeningBalance.objects.create(hub=hubs["KE-NBO"], metric=Metric.BENEFICIARIES_REACHED, value=12_345)
    OpeningBalance.objects.create(hub=hubs["KE-MBA"], metric=Metric.DEVICES_RECEIVED, value=777)
    activity.public = True
    activity.save(update_fields=["public"])
    ProjectFactory(hub=hubs["KE-NBO"], name="Private clinic network", public=False)
    cache.clear()

    response = client.get("/hubs/KE-NBO/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Hub KE-NBO" in html
    assert re.search(r'data-hub="KE-NBO" data-metric="devices_received">5,003<', html)  # 5,000 before + 3
    assert re.search(r'data-hub="KE-NBO" data-metric="beneficiaries_reached">12,375<', html)
    assert re.search(r"Devices received</th><td class=\"num\">5,000<", html)  # the opening balance shown as such
    assert "777" not in html  # another hub's balance
    assert 'aria-label="Devices received and delivered at Hub KE-NBO, last 24 months"' in html
    assert 'aria-label="People reached by project kind at Hub KE-NBO"' in html
    this_month = timezone.now().strftime("%Y-%m")
    assert f'<th scope="row">{this_month}</th><td class="num">3</td><td class="num">2</td>' in html
    assert re.search(r'<th scope="row">Education</th>\s*<td class="num">2</td>\s*<td class="num">30</td>', html)
    assert "data-kind=" not in html  # the live script fills network-wide figures; a hub page keeps its own
    assert f'href="/public/projects/{activity.pk}/">Kibera coding club</a>' in html
    assert "Private clinic network" not in html
    assert "data-kind=" not in html  # hub rows must not be overwritten by the network's live per-kind figures


def test_hub_page_is_linked_and_not_found_for_unknown_or_inactive_hubs(client, hubs):
    assert 'href="/hubs/ZA-JNB/"' in client.get(reverse("impact:home")).content.decode()
    assert client.get("/hubs/XX-XXX/").status_code == 404
    Hub.objects.filter(code="CD-FIH").update(active=False)
    cache.clear()
    assert client.get("/hubs/CD-FIH/").status_code == 404
    assert client.get("/hubs/ke-nbo/")["Location"] == "/hubs/KE-NBO/"


def test_hub_page_runs_no_query_when_cached_and_follows_the_next_fold(
    client, hubs, staff_ke_nbo, django_assert_num_queries, django_capture_on_commit_callbacks
):
    received(hubs["KE-NBO"], staff_ke_nbo)
    impact_fold_events()
    this_month = timezone.now().strftime("%Y-%m")
    client.get("/hubs/KE-NBO/")

    with django_assert_num_queries(0):
        html = client.get("/hubs/KE-NBO/").content.decode()
    assert f'<th scope="row">{this_month}</th><td class="num">1</td>' in html

    with django_capture_on_commit_callbacks(execute=True):  # the fold refreshes the summary after commit
        received(hubs["KE-NBO"], staff_ke_nbo, count=2)
        impact_fold_events()

    html = client.get("/hubs/KE-NBO/").content.decode()
    assert f'<th scope="row">{this_month}</th><td class="num">3</td>' in html
    assert re.search(r'data-hub="KE-NBO" data-metric="devices_received">3<', html)


# --- public project pages -----------------------------------------------------------------------------------


@pytest.fixture
def coordinator(db):
    return UserFactory(username="coord-wanjiru", email="wanjiru.private@example.org")


def test_public_project_page_shows_its_figures_and_no_personal_data(
    client, hubs, staff_ke_nbo, coordinator, sanitisation
):
    project = ProjectFactory(
        hub=hubs["KE-NBO"], organisation="Kibera Primary", name="Kibera coding club", kind="education", public=True
    )
    project.coordinators.add(coordinator)
    # Two deliveries: figures must add up, not multiply (3 + 2 devices, 40 + 10 people).
    deliver(
        hub=hubs["KE-NBO"], staff=staff_ke_nbo, project=project, count=3, beneficiaries=40, sanitisation=sanitisation
    )
    deliver(
        hub=hubs["KE-NBO"], staff=staff_ke_nbo, project=project, count=2, beneficiaries=10, sanitisation=sanitisation
    )

    response = client.get(f"/public/projects/{project.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kibera coding club" in html and "Kibera Primary" in html
    assert "<strong>5</strong> <span>devices delivered" in html
    assert "<strong>50</strong> <span>people reached" in html
    assert "Education" in html and "Kenya" in html
    assert '<a href="/hubs/KE-NBO/">Hub KE-NBO</a>' in html
    assert "coord-wanjiru" not in html
    assert "wanjiru.private@example.org" not in html
    assert "wanjiru" not in html.lower()


def test_a_project_that_did_not_opt_in_is_not_found(client, hubs):
    hidden = ProjectFactory(hub=hubs["KE-NBO"], name="Not for the public", public=False)

    assert client.get(f"/public/projects/{hidden.pk}/").status_code == 404
    assert client.get("/public/projects/999999/").status_code == 404
    assert "Not for the public" not in client.get("/public/projects/").content.decode()


def test_public_project_list_shows_opted_in_projects_in_a_fixed_number_of_queries(
    client, hubs, coordinator, django_assert_num_queries
):
    first = ProjectFactory(hub=hubs["KE-NBO"], name="Alpha school", public=True)
    first.coordinators.add(coordinator)
    with django_assert_num_queries(2):  # page count, page of projects with their figures
        client.get("/public/projects/")
    for n in range(4):
        ProjectFactory(hub=hubs["BE-BRU"], name=f"Beta {n}", public=True)
    ProjectFactory(hub=hubs["BE-BRU"], name="Gamma hidden", public=False)

    with django_assert_num_queries(2):
        html = client.get("/public/projects/").content.decode()

    assert html.count('href="/public/projects/') == 5
    assert "Gamma hidden" not in html
    assert "coord-wanjiru" not in html
    only_nairobi = client.get("/public/projects/?hub=KE-NBO").content.decode()
    assert "Alpha school" in only_nairobi and "Beta 0" not in only_nairobi


# --- widget -------------------------------------------------------------------------------------------------


def test_widget_is_small_live_and_frameable_while_other_pages_are_not(client, hubs):
    OpeningBalance.objects.create(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=Decimal(1_673_488))

    response = client.get("/widget/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    html = response.content.decode()
    assert len(response.content) < 5 * 1024
    assert re.search(r'data-live-url="/api/v1/impact/" data-live-period="\d+"', html)
    assert re.search(r'data-metric="devices_received">1,673,488<', html)
    assert re.search(r'<script src="/static/js/impact-live\.js" defer></script>', html)
    assert "<style>" in html and "css/site.css" not in html  # its own few lines of CSS
    assert "site-header" not in html and "Log in" not in html  # no site navigation inside a partner's page
    for path in ("/", "/hubs/BE-BRU/", "/public/projects/"):
        assert client.get(path)["X-Frame-Options"] == "DENY", path


def test_widget_script_is_served_and_inserts_a_frame_of_the_widget(client):
    response = client.get("/static/js/impact-widget.js")

    assert response.status_code == 200
    script = b"".join(response.streaming_content).decode()
    assert "data-closegap-widget" in script
    assert '"/widget/"' in script
    assert 'createElement("iframe")' in script
    assert len(script) < 3 * 1024


# --- in a real browser --------------------------------------------------------------------------------------


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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_open_home_page_updates_environment_country_and_kind_figures(live_server, page, hubs, sanitisation):
    cache.clear()
    staff = StaffFactory(username="staff-ke-nbo", hub=hubs["KE-NBO"])
    project = ProjectFactory(hub=hubs["KE-NBO"], kind=Project.Kind.MEDICAL)
    page.goto(live_server.url + "/")
    assert page.locator('[data-env="co2e_avoided_by_reuse_kg"]').inner_text() == "0"
    assert page.locator("[data-live-period]").get_attribute("data-live-period") == "300"

    # Each transition folds and refreshes the summary after commit (eager Celery in tests).
    deliver(hub=hubs["KE-NBO"], staff=staff, project=project, count=1, beneficiaries=25, sanitisation=sanitisation)

    wait_for_text(page, '[data-env="co2e_avoided_by_reuse_kg"]', "69")
    wait_for_text(page, '[data-kind="medical"][data-metric="beneficiaries_reached"]', "25")
    wait_for_text(page, '[data-country="KE"][data-metric="devices_delivered"]', "1")
    assert page.locator('[data-metric="devices_delivered"]').first.inner_text() == "1"  # headline untouched by rows
    assert page.locator('[data-kind="education"][data-metric="beneficiaries_reached"]').text_content() == "0"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_widget_script_frames_the_live_widget_on_a_partner_page(live_server, page, partner_site, hubs):
    cache.clear()
    staff = StaffFactory(username="staff-ke-nbo", hub=hubs["KE-NBO"])
    partner = (
        "<!doctype html><title>Partner</title><h1>Our partners</h1>"
        f'<p><script src="{live_server.url}/static/js/impact-widget.js" data-closegap-widget async></script></p>'
    )
    page.goto(partner_site(partner))
    frame_element = page.wait_for_selector('iframe[title="Close the Gap live impact"]')
    assert frame_element.get_attribute("src") == live_server.url + "/widget/"
    frame = frame_element.content_frame()
    frame.wait_for_selector('[data-metric="devices_received"]')
    assert frame.locator('[data-metric="devices_received"]').inner_text() == "0"

    received(hubs["KE-NBO"], staff, count=2)

    wait_for_text(frame, '[data-metric="devices_received"]', "2")
    # The frame told the partner page its height, and the page sized the frame to it.
    page.wait_for_function(
        "() => { const f = document.querySelector('iframe'); return f.style.height !== '190px'; }", timeout=10_000
    )
