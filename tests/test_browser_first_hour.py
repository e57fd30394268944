"""The first hour of a pilot (issue 20), seen in Chromium at a laptop's and a phone's width, in three languages.

On the demo data: the phone-width pages keep every table on the screen or scrolling inside a labelled region,
chart text stays readable, the hub dashboard leads with what a manager acts on and stays short, device titles
start with a capital, dates are written one way per language, and the menu fits the person. With
``CLOSEGAP_SCREENSHOTS=<folder>`` each page is also saved there as a PNG (``<page>-<language>-<width>.png``), to
look at.
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1366, 800), "phone": (390, 844)}
# Chart text at least this many CSS pixels as drawn (the 640-unit SVGs shrink on a phone).
MIN_CHART_TEXT_PX = 10.5

LAYOUT = """() => {
  const width = document.documentElement.clientWidth;
  const cut = [];
  for (const table of document.querySelectorAll("main table")) {
    const box = table.getBoundingClientRect();
    if (box.right <= width + 1) continue;
    const region = table.closest("[role=region]");
    const labelled = region && (region.getAttribute("aria-label") || region.getAttribute("aria-labelledby"));
    const scrolls = region && ["auto", "scroll"].includes(getComputedStyle(region).overflowX);
    const inside = region && region.getBoundingClientRect().right <= width + 1;
    if (!(labelled && scrolls && inside)) {
      const caption = table.querySelector("caption");
      cut.push(caption ? caption.textContent.trim() : table.outerHTML.slice(0, 60));
    }
  }
  const text = [];
  for (const svg of document.querySelectorAll("main svg.chart")) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    for (const t of svg.querySelectorAll("text")) {
      if (getComputedStyle(t).display === "none") continue;
      text.push(parseFloat(getComputedStyle(t).fontSize) * scale);
    }
  }
  return {
    cut,
    pageWider: document.documentElement.scrollWidth > width + 1,
    smallestChartText: text.length ? Math.min(...text) : null,
    height: document.documentElement.scrollHeight,
  };
}"""


def _signed_in(browser, live_server, username: str | None, language: str, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale=language)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    if username:
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return context


def _as_date_format(value: str | None) -> str | None:
    """The page's <time datetime="..."> as DATE_FORMAT writes it in the active language."""
    moment = parse_datetime(value or "")
    if moment is not None:
        return date_format(timezone.localtime(moment) if timezone.is_aware(moment) else moment, "DATE_FORMAT")
    day = parse_date(value or "")
    return date_format(day, "DATE_FORMAT") if day else None


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("CLOSEGAP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


PAGES = [
    # name, who, url name (and args), what to check beyond the layout
    ("home", None, ("impact:home", []), "charts"),
    ("public-projects", None, ("impact:project-list", []), ""),
    ("hub-dashboard", "manager-be-bru", ("impact:hub-dashboard", ["BE-BRU"]), "dashboard"),
    ("donor-portal", "donor-demo", ("donations:portal", []), "portal"),
    ("application", "coordinator-demo", ("projects:apply", []), "application"),
    ("scan-station", "staff-be-bru", ("scan:station", []), ""),
]


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_first_hours_pages_read_well_at_both_widths(live_server, browser, demo_data, language):
    problems = []
    for name, who, (url_name, args) in [(p[0], p[1], p[2]) for p in PAGES]:
        with translation.override(language):
            url = live_server.url + reverse(url_name, args=args)
        for width_name, size in WIDTHS.items():
            context = _signed_in(browser, live_server, who, language, size)
            page = context.new_page()
            response = page.goto(url)
            assert response is not None and response.status == 200, f"{name} [{language}] answered {response.status}"
            found = page.evaluate(LAYOUT)
            where = f"{name} [{language} {width_name}]"
            if found["cut"]:
                problems.append(f"{where}: tables cut off the screen: {found['cut']}")
            if found["pageWider"]:
                problems.append(f"{where}: the page is wider than the screen")
            if found["smallestChartText"] is not None and found["smallestChartText"] < MIN_CHART_TEXT_PX:
                problems.append(f"{where}: chart text {found['smallestChartText']:.1f} px")
            if name == "hub-dashboard":
                main = page.locator("main")
                first = main.locator("h2").first.inner_text()
                with translation.override(language):
                    expected = translation.gettext("Needs attention")
                if first != expected:
                    problems.append(f"{where}: the dashboard starts with {first!r}, not {expected!r}")
                if width_name == "desktop" and found["height"] > 2600:
                    problems.append(f"{where}: the dashboard is {found['height']} px tall")
                zeros = page.evaluate(
                    "() => [...document.querySelectorAll('main td[data-wip]')]"
                    ".filter(td => td.textContent.trim() === '0').length"
                )
                if zeros:
                    problems.append(f"{where}: {zeros} states listed with 0 devices")
                if re.search(r"\b\d{2}/\d{2}/\d{4}\b", main.inner_text()):
                    problems.append(f"{where}: a date written as 00/00/0000")
            if name == "donor-portal":
                titles = page.evaluate(
                    "() => [...document.querySelectorAll('main a')].map(a => a.textContent.trim())"
                    ".filter(t => /^(laptop|desktop|monitor|tablet|ordinateur|portable|écran|beeldscherm)\\b/.test(t))"
                )
                if titles:
                    problems.append(f"{where}: device titles in lower case: {titles[:3]}")
                # A bullet drawn in a row of links (a flex row) sits on the previous link's text.
                overlaps = page.evaluate(
                    """() => [...document.querySelectorAll('main li')].filter(li => {
                        const style = getComputedStyle(li);
                        const row = getComputedStyle(li.parentElement).display.includes('flex');
                        return row && style.display === 'list-item' && style.listStyleType !== 'none';
                    }).length"""
                )
                if overlaps:
                    problems.append(f"{where}: {overlaps} bullets over their link text")
                dates = page.evaluate(
                    "() => [...document.querySelectorAll('main time')].map(t => t.textContent.trim())"
                )
                with translation.override(language):
                    written = {_as_date_format(t.get_attribute("datetime")) for t in page.locator("main time").all()}
                if dates and not set(dates) <= written:
                    problems.append(f"{where}: dates not written as DATE_FORMAT: {sorted(set(dates) - written)[:3]}")
            if name == "application":
                blocks = page.locator("main fieldset legend").all_inner_texts()
                if sum(1 for b in blocks if re.search(r"\b1\b", b)) != 1 or len(blocks) > 2:
                    problems.append(f"{where}: the application shows {len(blocks)} blocks: {blocks}")
                if page.locator("select[name=country]").count() != 1:
                    problems.append(f"{where}: the country is not a list")
            _screenshot(page, f"{name}-{language}-{width_name}")
            context.close()
    assert not problems, "\n".join(problems)
