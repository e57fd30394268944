"""The public pages: home with its totals, charts and environment estimate, hub pages, public project pages
and the widget."""

import re
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from hubs.models import Hub, HubKind
from impact import views as impact_views
from impact.factories import OpeningBalanceFactory
from impact.models import EmissionFactor, Metric
from impact.services import impact_fold_events
from projects.factories import ProjectFactory, shipment_delivered
from projects.models import Project
from refurbishing.factories import DeviceFactory, device_through, devices_received
from refurbishing.services import device_transition

FIRST_LOAD_LIMIT = 150 * 1024
MARKUP = "<script>alert(1)</script>"

pytestmark = pytest.mark.usefixtures("fresh_cache")


def static_paths(html):
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


# --- home ---------------------------------------------------------------------------------------------------


@pytest.fixture
def activity(hubs, staff_ke_nbo):
    """Two laptops delivered to a Nairobi school (30 people), one 2.5 kg device recycled, folded."""
    project = ProjectFactory(hub=hubs["KE-NBO"], kind=Project.Kind.EDUCATION, name="Kibera coding club")
    shipment_delivered(project=project, actor=staff_ke_nbo, count=2, beneficiaries=30)
    (device,) = devices_received(1, hub=hubs["KE-NBO"], actor=staff_ke_nbo)
    device_through(device, "sanitise", actor=staff_ke_nbo)
    device_transition(
        device=device, action="inspect", actor=staff_ke_nbo, record={"passed": False, "notes": "Dead board"}
    )
    device_transition(device=device, action="recycle", actor=staff_ke_nbo, data={"weight_kg": "2.5"})
    impact_fold_events()
    cache.clear()
    return project


def test_home_shows_totals_with_opening_balances_and_the_live_script(client, hubs, staff_be):
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=1_673_487)
    OpeningBalanceFactory(hub=hubs["KE-MBA"], metric=Metric.BENEFICIARIES_REACHED, value=6_168_115)
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.EWASTE_RECYCLED_KG, value=Decimal("1234.5"))
    devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    impact_fold_events()

    response = client.get(reverse("impact:home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-metric="devices_received">1,673,488<', html)  # opening balance + the one received
    assert re.search(r'data-metric="beneficiaries_reached">6,168,115<', html)
    assert re.search(r'data-metric="ewaste_recycled_kg">1,234.5<', html)
    assert re.search(r'data-hub="BE-BRU" data-metric="devices_received">1,673,488<', html)
    assert re.search(r'data-hub="KE-MBA" data-metric="beneficiaries_reached">6,168,115<', html)
    assert 'data-live-url="/api/v1/impact/"' in html
    assert re.search(r'<script src="[^"]*js/impact-live\.js" defer></script>', html)
    assert "Updated <time" in html


def test_home_shows_charts_each_with_its_table(client, activity):
    html = client.get(reverse("impact:home")).content.decode()

    charts = re.findall(r'<svg class="chart"[^>]*role="img"[^>]*aria-label="([^"]+)"', html)
    assert charts == [
        "Devices received and delivered through the platform, last 24 months",
        "Devices delivered by hub",
        "Devices delivered by project kind",
        "People reached by project kind",
    ]
    # Each chart says what it measures in a visible heading, not only to screen readers.
    for title in charts:
        assert f"<h3>{title}</h3>" in html
    now = timezone.now()
    # The monthly table, behind its chart: 3 received (2 delivered + 1 recycled), 2 delivered, 30 people.
    assert re.search(
        rf'<th scope="row"><time datetime="{now:%Y-%m}">{now:%B %Y}</time></th>'
        r'<td class="num">3</td><td class="num">2</td><td class="num">30</td>',
        html,
    )
    assert html.count("<details>") == 2
    # Month names along the axis and in each bar's title.
    assert f"<title>{now:%b %Y} Devices delivered: 2</title>" in html
    # The first month shown: 23 calendar months before this one (counting days names the wrong month on some days).
    first = now.date().replace(day=1)
    for _ in range(23):
        first = (first - timedelta(days=1)).replace(day=1)
    assert f'class="chart-axis" text-anchor="start">{first:%b %Y}</text>' in html
    assert re.search(r'<a href="/en/hubs/KE-NBO/">Hub KE-NBO</a>', html)
    assert re.search(r'data-kind="education" data-metric="devices_delivered">2<', html)
    assert re.search(r'data-kind="education" data-metric="beneficiaries_reached">30<', html)
    assert re.search(
        r'<th scope="row">Kenya</th>\s*<td class="num" data-country="KE" data-metric="devices_received">3<', html
    )
    assert re.search(r'data-country="KE" data-metric="beneficiaries_reached">30<', html)


def test_both_co2e_estimates_count_only_what_went_through_the_platform(client, activity, hubs):
    """Reuse counts deliveries through the platform; recycling did count the historic e-waste too (5,876 kg
    beside 3,036,498 kg on the demo's page). Both are on the platform's basis now, and the page says so."""
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.EWASTE_RECYCLED_KG, value=2_108_679)
    cache.clear()

    environment = client.get(reverse("api-impact")).json()["environment"]
    assert environment["basis"] == "platform"
    assert environment["co2e_avoided_by_recycling_kg"] == 3  # 2.5 kg through the platform x 1.44, not 2,108,681.5
    assert environment["co2e_avoided_kg"] == 141
    assert environment["ewaste_recycled_through_platform_kg"] == 2.5
    assert environment["ewaste_historic_kg"] == 2_108_679
    assert environment["ewaste_diverted_kg"] == 2_108_681.5  # diverted: everything, the historic total included

    for language, words in {
        "en": "only what went through the platform",
        "fr": "ne comptent que ce qui est passé par la plateforme",
        "nl": "tellen alleen wat via het platform ging",
    }.items():
        with translation.override(language):
            html = client.get(reverse("impact:home"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        basis = re.search(r"<p class=\"meta\" data-env-basis>(.*?)</p>", html, re.S)
        assert basis and words in basis.group(1), language
        assert re.search(r'data-env="co2e_avoided_by_recycling_kg">3<', html)


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
    assert sorted(assets) == ["/static/css/site.css", "/static/favicon.svg", "/static/js/impact-live.js"]
    # No CDN, no remote image (the hreflang links name the page in other languages; nothing loads them).
    assert not re.search(rb'<(?:link(?! rel="alternate")|script|img)[^>]+(?:href|src)="(?:https?:)?//', html)

    sizes = {"html": len(html)}
    for path in assets:
        asset = client.get(path)
        assert asset.status_code == 200, path
        sizes[path] = len(b"".join(asset.streaming_content) if asset.streaming else asset.content)
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\nhome first load: {total:,} bytes uncompressed {sizes}")
    assert all(size > 200 for size in sizes.values())  # really fetched, not an empty 404 page
    assert total < FIRST_LOAD_LIMIT


def test_home_runs_no_query_once_the_summary_is_cached(client, activity, django_assert_num_queries):
    client.get(reverse("impact:home"))  # builds the summary into the cache

    with django_assert_num_queries(0):
        response = client.get(reverse("impact:home"))

    assert response.status_code == 200
    assert re.search(r'data-metric="devices_delivered">2<', response.content.decode())


def test_home_page_body_is_rendered_once_per_summary_and_again_after_a_fold(
    client, hubs, staff_be, django_capture_on_commit_callbacks
):
    device = DeviceFactory(donation__hub=hubs["BE-BRU"])
    impact_fold_events()
    first = client.get("/en/")
    assert first.status_code == 200
    with mock.patch.object(impact_views, "_home_content", side_effect=AssertionError("rendered again")):
        again = client.get("/en/")
    assert again.content == first.content

    with django_capture_on_commit_callbacks(execute=True):  # the fold refreshes the summary after commit
        device_transition(device=device, action="receive", actor=staff_be)
    changed = client.get("/en/")
    assert changed.content != first.content
    assert 'data-metric="devices_received">1<' in changed.content.decode()


@pytest.mark.parametrize(
    ("language", "devices", "people", "kilograms"),
    [
        ("en", "1,673,488", "6,168,115", "1,234.5"),
        ("fr", "1\u00a0673\u00a0488", "6\u00a0168\u00a0115", "1\u00a0234,5"),
        ("nl", "1.673.488", "6.168.115", "1.234,5"),
    ],
)
def test_home_writes_the_figures_the_way_each_language_does(
    client, hubs, staff_be, language, devices, people, kilograms
):
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=1_673_487)
    OpeningBalanceFactory(hub=hubs["KE-MBA"], metric=Metric.BENEFICIARIES_REACHED, value=6_168_115)
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.EWASTE_RECYCLED_KG, value=Decimal("1234.5"))
    devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    impact_fold_events()

    html = client.get(f"/{language}/").content.decode()

    assert f'data-metric="devices_received">{devices}<' in html
    assert f'data-metric="beneficiaries_reached">{people}<' in html
    assert f'data-metric="ewaste_recycled_kg">{kilograms}<' in html
    assert f'data-hub="BE-BRU" data-metric="devices_received">{devices}<' in html


def test_a_french_home_page_is_not_served_from_the_english_body(client, hubs):
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=1_673_488)
    english = client.get("/en/").content.decode()
    assert "Closing the digital divide" in english and "1,673,488" in english

    french = client.get("/fr/").content.decode()
    dutch = client.get("/nl/").content.decode()

    assert '<html lang="fr">' in french
    assert "Réduire la fracture numérique" in french and "Closing the digital divide" not in french
    assert "1\u00a0673\u00a0488" in french
    assert "De digitale kloof dichten" in dutch and "1.673.488" in dutch
    # Each language's body is kept: asking again renders nothing, in any of them.
    with mock.patch.object(impact_views, "_home_content", side_effect=AssertionError("rendered again")):
        assert client.get("/en/").content.decode() == english
        assert client.get("/fr/").content.decode() == french


def test_home_says_what_the_totals_and_the_breakdowns_count(client, hubs):
    html = client.get("/en/").content.decode()

    # Right under the headline figures, in full text, not in small print.
    headline_note = re.search(r'</ul>\s*<p class="scope">([^<]+)</p>', html).group(1)
    assert "include what our hubs counted before this platform existed" in headline_note
    assert "count only what went through the platform" in headline_note
    assert re.search(r'<h2 id="monthly-title">[^<]+</h2>\s*<p class="scope">Only what went through this platform', html)
    assert re.search(
        r'<h2 id="kinds-title">[^<]+</h2>\s*<p class="scope">Counted only from deliveries confirmed through',
        html,
    )


def test_month_names_follow_the_language(client, hubs, staff_be):
    devices_received(1, hub=hubs["BE-BRU"], actor=staff_be)
    impact_fold_events()
    month = timezone.now().month
    french = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ][month - 1]

    html = client.get("/fr/").content.decode()

    assert f'<time datetime="{timezone.now():%Y-%m}">{french} {timezone.now():%Y}</time>' in html
    assert "Appareils reçus et livrés via la plateforme" in html  # the chart's heading, translated


def test_home_polls_live_with_a_period_from_the_page_and_documents_reuse(client, hubs):
    html = client.get(reverse("impact:home")).content.decode()

    assert re.search(r'data-live-url="/api/v1/impact/" data-live-period="5000"', html)
    assert "Use our figures" in html
    assert (
        "&lt;script src=&quot;http://testserver/static/js/impact-widget.js&quot; data-closegap-widget "
        "data-lang=&quot;en&quot; data-title=&quot;Close the Gap live impact&quot; async&gt;"
        in html.replace('"', "&quot;")
    )
    assert "&lt;iframe src=&quot;http://testserver/en/widget/&quot;" in html.replace('"', "&quot;")
    assert '<a href="/api/v1/impact/">http://testserver/api/v1/impact/</a>' in html


def test_live_script_reads_its_period_and_revalidates_with_the_etag(client):
    script = b"".join(client.get("/static/js/impact-live.js").streaming_content).decode()

    assert 'getAttribute("data-live-period")' in script
    assert 'cache: "no-cache"' in script
    for attribute in ("data-hub", "data-country", "data-kind", "data-env"):
        assert f'"{attribute}"' in script


# --- hub pages ----------------------------------------------------------------------------------------------


def test_hub_page_shows_totals_with_its_opening_balance_months_kinds_and_public_projects(client, activity, hubs):
    OpeningBalanceFactory(hub=hubs["KE-NBO"], metric=Metric.DEVICES_RECEIVED, value=5_000)
    OpeningBalanceFactory(hub=hubs["KE-NBO"], metric=Metric.BENEFICIARIES_REACHED, value=12_345)
    OpeningBalanceFactory(hub=hubs["KE-MBA"], metric=Metric.DEVICES_RECEIVED, value=777)
    activity.public = True
    activity.save(update_fields=["public"])
    ProjectFactory(hub=hubs["KE-NBO"], name="Private clinic network", public=False)
    cache.clear()

    response = client.get("/en/hubs/KE-NBO/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "Hub KE-NBO" in html
    assert re.search(r'data-hub="KE-NBO" data-metric="devices_received">5,003<', html)  # 5,000 before + 3
    assert re.search(r'data-hub="KE-NBO" data-metric="beneficiaries_reached">12,375<', html)
    assert re.search(r"Devices received</th><td class=\"num\">5,000<", html)  # the opening balance shown as such
    assert "777" not in html  # another hub's balance
    assert 'aria-label="Devices received and delivered at Hub KE-NBO through the platform, last 24 months"' in html
    assert 'aria-label="People reached by project kind at Hub KE-NBO"' in html
    now = timezone.now()
    assert (
        f'<th scope="row"><time datetime="{now:%Y-%m}">{now:%B %Y}</time></th>'
        '<td class="num">3</td><td class="num">2</td>' in html
    )
    assert re.search(r'<th scope="row">Education</th>\s*<td class="num">2</td>\s*<td class="num">30</td>', html)
    assert "data-kind=" not in html  # the live script fills network-wide figures; a hub page keeps its own
    assert f'href="/en/public/projects/{activity.pk}/">Kibera coding club</a>' in html
    assert "Private clinic network" not in html


def test_the_hub_page_and_the_home_table_say_what_kind_of_hub_it_is_and_what_it_does(client, hubs):
    Hub.objects.filter(code="ZA-JNB").update(kind=HubKind.objects.get(code=HubKind.ITAD_SOCIAL_ENTERPRISE))

    hub_page = client.get("/en/hubs/ZA-JNB/").content.decode()
    assert (
        '<p class="hub-kind"><strong>ITAD social enterprise</strong><br>Takes in companies&#x27; retired IT '
        "equipment: certified data wiping, grading and refurbishing, and recycling of the rest.</p>"
    ) in hub_page
    home = client.get(reverse("impact:home")).content.decode()
    assert '<th scope="col">What it does</th>' in home
    rows = dict(re.findall(r'href="/en/hubs/([A-Z-]+)/".*?<td class="hub-kind">(.*?)</td>', home, re.S))
    assert rows["ZA-JNB"].startswith('ITAD social enterprise<br><span class="meta">Takes in companies')
    assert rows["BE-BRU"] == (
        'Refurbishing hub<br><span class="meta">Refurbishes donated devices and sends them to projects.</span>'
    )


def test_hub_page_is_linked_and_not_found_for_unknown_or_inactive_hubs(client, hubs):
    assert 'href="/en/hubs/ZA-JNB/"' in client.get(reverse("impact:home")).content.decode()
    assert client.get("/en/hubs/XX-XXX/").status_code == 404
    Hub.objects.filter(code="CD-FIH").update(active=False)
    cache.clear()
    assert client.get("/en/hubs/CD-FIH/").status_code == 404
    assert client.get("/en/hubs/ke-nbo/")["Location"] == "/en/hubs/KE-NBO/"


def test_hub_page_runs_no_query_when_cached_and_follows_the_next_fold(
    client, hubs, staff_ke_nbo, django_assert_num_queries, django_capture_on_commit_callbacks
):
    devices_received(1, hub=hubs["KE-NBO"], actor=staff_ke_nbo)
    impact_fold_events()
    this_month = timezone.now().strftime("%Y-%m")
    month_row = f'<th scope="row"><time datetime="{this_month}">{timezone.now():%B %Y}</time></th>'
    client.get("/en/hubs/KE-NBO/")

    with django_assert_num_queries(0):
        html = client.get("/en/hubs/KE-NBO/").content.decode()
    assert f'{month_row}<td class="num">1</td>' in html

    with django_capture_on_commit_callbacks(execute=True):  # the fold refreshes the summary after commit
        devices_received(2, hub=hubs["KE-NBO"], actor=staff_ke_nbo)
        impact_fold_events()

    html = client.get("/en/hubs/KE-NBO/").content.decode()
    assert f'{month_row}<td class="num">3</td>' in html
    assert re.search(r'data-hub="KE-NBO" data-metric="devices_received">3<', html)


# --- public project pages -----------------------------------------------------------------------------------


def test_public_project_page_shows_its_figures_and_no_personal_data(client, hubs, staff_ke_nbo, coordinator):
    project = ProjectFactory(
        hub=hubs["KE-NBO"], organisation="Kibera Primary", name="Kibera coding club", kind="education", public=True
    )
    project.coordinators.add(coordinator)
    # Two deliveries: figures must add up, not multiply (3 + 2 devices, 40 + 10 people).
    shipment_delivered(project=project, actor=staff_ke_nbo, count=3, beneficiaries=40)
    shipment_delivered(project=project, actor=staff_ke_nbo, count=2, beneficiaries=10)

    response = client.get(f"/en/public/projects/{project.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kibera coding club" in html and "Kibera Primary" in html
    assert "<strong>5</strong> <span>devices delivered" in html
    assert "<strong>50</strong> <span>people reached" in html
    assert "Education" in html and "Kenya" in html
    assert '<a href="/en/hubs/KE-NBO/">Hub KE-NBO</a>' in html
    assert coordinator.username not in html
    assert coordinator.email not in html
    assert "wanjiru" not in html.lower()


def test_a_project_that_did_not_opt_in_is_not_found(client, hubs):
    hidden = ProjectFactory(hub=hubs["KE-NBO"], name="Not for the public", public=False)

    assert client.get(f"/en/public/projects/{hidden.pk}/").status_code == 404
    assert client.get("/en/public/projects/999999/").status_code == 404
    assert "Not for the public" not in client.get("/en/public/projects/").content.decode()


def test_public_project_list_shows_opted_in_projects_in_a_fixed_number_of_queries(
    client, hubs, coordinator, django_assert_num_queries
):
    first = ProjectFactory(hub=hubs["KE-NBO"], name="Alpha school", public=True)
    first.coordinators.add(coordinator)
    with django_assert_num_queries(2):  # page count, page of projects with their figures
        client.get("/en/public/projects/")
    for n in range(4):
        ProjectFactory(hub=hubs["BE-BRU"], name=f"Beta {n}", public=True)
    ProjectFactory(hub=hubs["BE-BRU"], name="Gamma hidden", public=False)

    with django_assert_num_queries(2):
        html = client.get("/en/public/projects/").content.decode()

    assert html.count('href="/en/public/projects/') == 5
    assert "Gamma hidden" not in html
    assert coordinator.username not in html
    only_nairobi = client.get("/en/public/projects/?hub=KE-NBO").content.decode()
    assert "Alpha school" in only_nairobi and "Beta 0" not in only_nairobi


def test_markup_in_names_is_escaped_on_public_pages(client, hubs, staff_ke_mba):
    hub = hubs["KE-MBA"]
    hub.name = MARKUP
    hub.save()
    project = ProjectFactory(hub=hub, name=MARKUP, organisation=MARKUP, public=True)
    shipment_delivered(project=project, actor=staff_ke_mba, count=1, beneficiaries=3)
    impact_fold_events()
    cache.clear()
    for url in ["/en/", f"/en/hubs/{hub.code}/", "/en/public/projects/", f"/en/public/projects/{project.pk}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert MARKUP not in page, url
        assert "&lt;script&gt;" in page, url


def test_public_project_list_refuses_a_malformed_hub_code(client, db):
    assert client.get("/en/public/projects/", {"hub": "KE-NBO-1"}).status_code == 404
    assert client.get("/en/public/projects/", {"hub": "KE-NBO\x00"}).status_code == 400  # refused before the view
    assert client.get("/en/public/projects/", {"hub": "ke-nbo"}).status_code == 200


# --- widget -------------------------------------------------------------------------------------------------


def test_widget_is_small_live_and_frameable_while_other_pages_are_not(client, hubs):
    OpeningBalanceFactory(hub=hubs["BE-BRU"], metric=Metric.DEVICES_RECEIVED, value=Decimal(1_673_488))

    response = client.get("/en/widget/")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    html = response.content.decode()
    assert len(response.content) < 5 * 1024
    assert re.search(r'data-live-url="/api/v1/impact/" data-live-period="\d+"', html)
    assert re.search(r'data-metric="devices_received">1,673,488<', html)
    assert re.search(r'<script src="/static/js/impact-live\.js" defer></script>', html)
    # Its own few lines of CSS, from a static file (the Content-Security-Policy refuses inline styles).
    assert "css/widget.css" in html and "css/site.css" not in html and "<style" not in html
    assert "site-header" not in html and "Log in" not in html  # no site navigation inside a partner's page
    for path in ("/en/", "/en/hubs/BE-BRU/", "/en/public/projects/"):
        assert client.get(path)["X-Frame-Options"] == "DENY", path


def test_widget_script_is_served_and_inserts_a_frame_of_the_widget(client):
    response = client.get("/static/js/impact-widget.js")

    assert response.status_code == 200
    script = b"".join(response.streaming_content).decode()
    assert "data-closegap-widget" in script
    assert '"/widget/"' in script
    assert 'createElement("iframe")' in script
    assert len(script) < 3 * 1024
