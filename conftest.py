"""Fixtures shared by every test. Factories live in each app's ``factories.py``."""

import os
import re
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from donations.factories import DonorFactory
from hubs.accounts import account_email_mark_verified
from hubs.factories import HUB_CODES, HubFactory, StaffFactory, UserFactory
from refurbishing.factories import SANITISATION
from tests.chromium import CHROMIUM_PATH, chromium_launch
from tests.live_server import one_request_at_a_time

# CLOSEGAP_TEST_CLOCK=2027-12-31T23:59:00+00:00 starts every test at that instant, the clock ticking on from
# there: .ci/run replays the `clock` tests at the calendar's edges this way (README, Testing).
TEST_CLOCK = os.environ.get("CLOSEGAP_TEST_CLOCK", "")

# How long a racer may wait at the starting line, and the race may run, before the test calls it a deadlock.
RACE_TIMEOUT = 30


def pytest_collection_modifyitems(config, items):
    """Tests for the real services skip when those are not configured, except in CI.

    ``postgres`` tests need DATABASE_URL to point at PostgreSQL; ``worker`` tests need REDIS_URL (and
    start a real Celery worker); ``browser`` tests need Debian's chromium (or CHROMIUM_PATH). CI sets
    CLOSEGAP_REQUIRE_SERVICES=1, which turns a missing service into an error instead of a skip, so those
    tests can never pass by not running.
    """
    _restore_migrated_rows_after_transactional_tests(items)
    _mark_tests_that_read_the_calendar(items)
    _run_browser_tests_last(items)
    # "1" requires every service; a comma-separated list ("browser,gettext") requires those only (CI's SQLite run).
    demanded = os.environ.get("CLOSEGAP_REQUIRE_SERVICES", "")
    missing = {
        "postgres": connection.vendor != "postgresql",
        "worker": not os.environ.get("REDIS_URL"),
        "redis": not os.environ.get("REDIS_URL"),
        "browser": not os.path.exists(CHROMIUM_PATH),
        "gettext": not all(shutil.which(tool) for tool in ("xgettext", "msgmerge", "msgfmt")),
    }
    for marker, is_missing in missing.items():
        if not is_missing or not any(marker in item.keywords for item in items):
            continue
        if demanded == "1" or marker in demanded.split(","):
            raise pytest.UsageError(f"CLOSEGAP_REQUIRE_SERVICES={demanded} but the '{marker}' tests have no service.")
        for item in items:
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"needs the {marker} service (see README, Testing)"))


# What a test module reads when its outcome can turn on the date or the hour: clocks, calendar steps, expiries,
# the dashboard's weeks and the charts' months. Such modules are marked `clock` (a test may also carry the
# mark itself), and .ci/run replays them at the calendar's edges under CLOSEGAP_TEST_CLOCK.
CALENDAR_WORDS = re.compile(
    r"timezone\.now|localdate|localtime|date\.today|datetime|timedelta|time_machine|isocalendar|strftime"
    r"|expir|idle|cool.?off|week|month|year|pickup|tomorrow|yesterday|in the past|_at\b",
    re.IGNORECASE,
)


def _mark_tests_that_read_the_calendar(items):
    reads_calendar: dict[str, bool] = {}
    for item in items:
        path = str(item.path)
        if path not in reads_calendar:
            reads_calendar[path] = bool(CALENDAR_WORDS.search(item.path.read_text(encoding="utf-8")))
        if reads_calendar[path]:
            item.add_marker(pytest.mark.clock)


def _run_browser_tests_last(items):
    """Browser tests take seconds to minutes each, the rest milliseconds. Run last, they are what an idle
    xdist process steals (``--dist worksteal`` takes from the end of the other's queue), so the two cores
    share them instead of one running every browser test after the other. The order within each part stays
    as collected."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker is not None and marker.kwargs.get("transaction"))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


def _restore_migrated_rows_after_transactional_tests(items):
    """A transactional test (``transaction=True``, ``transactional_db``, ``live_server``) ends by emptying every
    table, which also removes rows that data migrations seeded (the published emission factors, the hub kinds).
    Marked for serialized rollback, the test database keeps a copy of them, which ``pytest_runtest_teardown``
    below writes back as soon as such a test ends, so no later test depends on the order the tests ran in:
    under xdist's worksteal an idle process may take ordinary tests after it ran transactional ones."""
    for item in items:
        if not _is_transactional(item):
            continue
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker is not None else {}
        if "serialized_rollback" in kwargs:
            continue
        kwargs.update(transaction=True, serialized_rollback=True)
        item.add_marker(pytest.mark.django_db(*(marker.args if marker else ()), **kwargs), append=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield  # every fixture of the test is torn down here: a transactional test's tables are empty now
    marker = item.get_closest_marker("django_db")
    # Only after a serialized-rollback flush: any other flush lets post_migrate recreate content types anew.
    if not _is_transactional(item) or marker is None or not marker.kwargs.get("serialized_rollback"):
        return
    if nextitem is None:  # the last test: the test databases themselves were just destroyed
        return
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        for alias in connections:
            contents = getattr(connections[alias], "_test_serialized_contents", None)
            if contents:
                connections[alias].creation.deserialize_db_from_string(contents)


@pytest.fixture(autouse=True)
def frozen_clock():
    """With CLOSEGAP_TEST_CLOCK set, the test runs as if it started then. time-machine moves every clock Python
    reads (``datetime``, ``time.time``, so ``timezone.now()`` and every ``auto_now`` the database stores)."""
    if not TEST_CLOCK:
        yield None
        return
    import time_machine

    with time_machine.travel(datetime.fromisoformat(TEST_CLOCK), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in English. A request to /fr/ or /nl/ leaves its language active in the thread (the test
    client runs in the test's thread), which would otherwise make a later test's reverse() give /fr/... addresses."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def hubs(db):
    return {code: HubFactory(code=code) for code in HUB_CODES}


@pytest.fixture
def staff_be(hubs):
    return StaffFactory(username="staff-be-bru", hub=hubs["BE-BRU"])


@pytest.fixture
def staff_ke_mba(hubs):
    return StaffFactory(username="staff-ke-mba", hub=hubs["KE-MBA"])


@pytest.fixture
def staff_ke_nbo(hubs):
    return StaffFactory(username="staff-ke-nbo", hub=hubs["KE-NBO"])


@pytest.fixture
def manager_be(hubs):
    """A manager of the Brussels hub: sends transfers and recycling batches from it."""
    from hubs.services import hub_membership_add

    user = StaffFactory(username="manager-be-bru")
    hub_membership_add(hub=hubs["BE-BRU"], user=user, role="manager")
    return user


@pytest.fixture
def manager_ke_mba(hubs):
    """The manager of the Mombasa hub: reviews applications, allocates beyond a request, corrects deliveries."""
    from hubs.services import hub_membership_add

    user = StaffFactory(username="manager-ke-mba")
    hub_membership_add(hub=hubs["KE-MBA"], user=user, role="manager")
    return user


@pytest.fixture
def partner_user(hubs):
    """A user of Flection, a refurbishment partner (no hub membership): staff, so they may use the admin."""
    from hubs.factories import PartnerFactory

    user = UserFactory(username="partner-flection", is_staff=True)
    PartnerFactory(name="Flection Refurbishment Services", users=[user])
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def donor_user(db):
    """A user of one donor organisation, Acme NV, whose e-mail address is verified (so they may pledge)."""
    user = UserFactory(username="donor-a")
    DonorFactory(legal_name="Acme NV", address="Rue Haute 1, 1000 Brussels").users.add(user)
    account_email_mark_verified(user=user)
    return user


@pytest.fixture
def coordinator(db):
    """A user who will coordinate a project; the e-mail lets tests check it never shows in public."""
    user = UserFactory(username="coordinator-wanjiru", email="wanjiru.private@example.org")
    account_email_mark_verified(user=user)  # so they may apply
    return user


@pytest.fixture
def sanitisation():
    return dict(SANITISATION)


@pytest.fixture
def token_client(db) -> Callable[[Any], APIClient]:
    """``token_client(user)``: an API client that signs in the way scripts do, with the user's API token."""

    def client_for(user) -> APIClient:
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


@pytest.fixture(autouse=True)
def fresh_cache():
    """The public figures are served from the cache: every test starts from what its own database says, and
    leaves nothing (a summary, a "fold pending" flag, a finished page, a rate-limit count) to the next one, so
    no outcome depends on which tests ran before it in the same process (xdist spreads them differently on
    each run). Tests still name it where the cache is what they are about."""
    from impact.page_cache import page_cache_clear

    cache.clear()
    page_cache_clear()
    yield
    cache.clear()
    page_cache_clear()


@pytest.fixture
def worker_mode():
    """Tasks go to a (mocked) broker instead of running in place, as with a real worker (Celery not eager)."""
    from closegap.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = eager


@pytest.fixture
def run_together() -> Callable[..., list[tuple[str, Any]]]:
    """``run_together(job, job, ...)``: each ``job(barrier)`` in its own thread with its own database connection,
    all released at the same moment by ``barrier.wait()``; returns ("ok", value) or ("error", exception) each."""

    def run(*jobs: Callable[[threading.Barrier], Any]) -> list[tuple[str, Any]]:
        barrier = threading.Barrier(len(jobs), timeout=RACE_TIMEOUT)
        results: list[tuple[str, Any] | None] = [None] * len(jobs)

        def worker(index: int, job: Callable[[threading.Barrier], Any]) -> None:
            try:
                results[index] = ("ok", job(barrier))
            except BaseException as exc:  # noqa: BLE001  (the test inspects whatever the racer raised)
                results[index] = ("error", exc)
            finally:
                connection.close()  # each thread opened its own connection; the test database must be droppable

        threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(RACE_TIMEOUT)
        assert not any(t.is_alive() for t in threads), "a racer is still running: deadlock or lock wait"
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    return run


# What seed_demo wrote, dumped once per test run and shared by the xdist processes: a browser test that needs the
# demo loads it in ~3 s instead of seeding it again (~20 s each; the accessibility test alone needs it 3 times).
# Yearly reports stay out of the dump: the database refuses lines added to an issued report, which is how loaddata
# would write them back, so each test that loads the dump issues the demo's report again through the service.
DEMO_DUMP_EXCLUDE = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "admin.logentry",
    "impact.yearlyreport",
    "impact.yearlyreportline",
    "impact.yearlyreportxlsx",
]


@pytest.fixture
def demo_data(settings, fresh_cache, tmp_path_factory):
    """The demo data (``manage.py seed_demo``) in this test's database: seeded by the first test of the run that
    asks, then loaded from that dump (natural keys, so content types and permissions match whatever their ids)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # one folder for every xdist process of this run
    dump = shared / "demo-data.json"
    if dump.exists():
        from demo.yearly_report import seed_yearly_report

        call_command("loaddata", str(dump), verbosity=0)
        seed_yearly_report()
    else:
        settings.DEBUG = True  # seed_demo refuses to write without it
        call_command("seed_demo", verbosity=0)
        settings.DEBUG = False
        partial = dump.with_suffix(f".{os.getpid()}.tmp")
        call_command(
            "dumpdata",
            natural_foreign=True,
            natural_primary=True,
            exclude=DEMO_DUMP_EXCLUDE,
            output=str(partial),
            verbosity=0,
        )
        partial.replace(dump)  # whole or not at all, whichever process finishes first
    from impact.selectors import impact_summary_refresh

    impact_summary_refresh()


# The live server answers each request in a thread of its own, and on SQLite every thread shares the test's one
# in-memory connection: two requests at once (a page and its service worker, two sessions saved) can meet on a
# table and fail with "database table is locked", more often the busier the machine. On SQLite the live server
# therefore answers one request at a time, body included; on PostgreSQL each thread has its own connection and
# requests overlap as they do in production.
@pytest.fixture
def live_server(live_server):
    if connection.vendor != "sqlite":
        yield live_server
        return
    with one_request_at_a_time(live_server):
        yield live_server


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium, driven by Playwright (which cannot download a browser of its own here)."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = chromium_launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
            # With the loop running, the ORM kept its connections in this context, out of pytest-django's
            # reach: close them here, or the test database cannot be dropped at the end.
            connections.close_all()


@pytest.fixture
def page(browser):
    """A page in that Chromium."""
    return browser.new_page()
