"""Fixtures shared by every test. Factories live in tests/factories.py."""

import os

import pytest
from django.db import connection

from tests.factories import HubFactory, StaffFactory, UserFactory

SANITISATION = {
    "method": "purge",
    "technique": "NVMe Format with crypto erase",
    "tool": "nwipe",
    "tool_version": "0.34",
    "verification": "full",
    "verified": True,
}


def pytest_collection_modifyitems(config, items):
    """Tests for the real services skip when those are not configured, except in CI.

    ``postgres`` tests need DATABASE_URL to point at PostgreSQL; ``worker`` tests need REDIS_URL (and
    start a real Celery worker); ``browser`` tests need Debian's chromium (or CHROMIUM_PATH). CI sets
    CLOSEGAP_REQUIRE_SERVICES=1, which turns a missing service into an error instead of a skip, so those
    tests can never pass by not running.
    """
    _restore_migrated_rows_after_transactional_tests(items)
    required = os.environ.get("CLOSEGAP_REQUIRE_SERVICES") == "1"
    missing = {
        "postgres": connection.vendor != "postgresql",
        "worker": not os.environ.get("REDIS_URL"),
        "browser": not os.path.exists(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")),
    }
    for marker, is_missing in missing.items():
        if not is_missing or not any(marker in item.keywords for item in items):
            continue
        if required:
            raise pytest.UsageError(f"CLOSEGAP_REQUIRE_SERVICES=1 but the '{marker}' tests have no service.")
        for item in items:
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"needs the {marker} service (see README, Testing)"))


def _restore_migrated_rows_after_transactional_tests(items):
    """A transactional test ends by emptying every table, which also removes rows that data migrations
    seeded (the published emission factors). Serialized rollback puts them back, so no later test
    depends on running first."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction") and "serialized_rollback" not in marker.kwargs:
            item.add_marker(
                pytest.mark.django_db(*marker.args, **marker.kwargs, serialized_rollback=True), append=False
            )


@pytest.fixture
def hubs(db):
    return {code: HubFactory(code=code) for code in ("BE-BRU", "KE-MBA", "KE-NBO", "ZA-JNB", "CD-FIH")}


@pytest.fixture
def staff_be(hubs):
    return StaffFactory(username="staff-be-bru", hub=hubs["BE-BRU"])


@pytest.fixture
def staff_ke_mba(hubs):
    return StaffFactory(username="staff-ke-mba", hub=hubs["KE-MBA"])


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def sanitisation():
    return dict(SANITISATION)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(monkeypatch):
    """A page in Debian's Chromium, driven by Playwright (which cannot download a browser of its own here)."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()
            # With the loop running, the ORM kept its connections in this context, out of pytest-django's
            # reach: close them here, or the test database cannot be dropped at the end.
            connections.close_all()
