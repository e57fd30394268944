"""Every device and event list, in the admin and the API, runs the same queries for 10 rows as for 10,000, and
never counts a whole table."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations.factories import DonationFactory
from refurbishing.models import Device, DeviceEvent

MANY = 10_000
DEVICES = "/admin/refurbishing/device/"
EVENTS = "/admin/refurbishing/deviceevent/"
PAGES = [
    ("admin devices", DEVICES),
    ("admin devices by hub and state", DEVICES + "?hub__id__exact={hub}&state__exact=received"),
    ("admin devices searched by serial", DEVICES + "?q=LQ00000007"),
    ("admin devices by category", DEVICES + "?category__exact=laptop&grade__exact=A"),
    ("admin events", EVENTS),
    ("admin events by action", EVENTS + "?action=receive&to_state__exact=received"),
    ("admin events searched by serial", EVENTS + "?q=LQ00000007"),
    ("API devices", "/api/v1/devices/"),
    ("API devices by hub and state", "/api/v1/devices/?hub=KE-MBA&state=received"),
    ("API devices by serial", "/api/v1/devices/?serial_number=LQ00000007"),
]


def _devices(count, *, hub, start):
    """``count`` received devices with a receive event each, written straight to the tables (as the benchmark)."""
    donation = DonationFactory(hub=hub)
    now = timezone.now()
    devices = Device.objects.bulk_create(
        [
            Device(
                donation=donation,
                hub=hub,
                category="laptop",
                manufacturer="Lenovo",
                serial_number=f"LQ{start + i:08d}",
                label_code=f"Q{start + i:07d}",
                grade="A",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    # The state column is protected: a received device is written as such at insert through a raw update.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE refurbishing_device SET state = 'received' WHERE id BETWEEN %s AND %s",
            [devices[0].pk, devices[-1].pk],
        )
    DeviceEvent.objects.bulk_create(
        [
            DeviceEvent(device=d, action="receive", from_state="pledged", to_state="received", hub=hub, occurred_at=now)
            for d in devices
        ],
        batch_size=2000,
    )


def _queries(client, url):
    client.get(url)  # warm the per-process caches (content types, sessions)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured.captured_queries]


def _whole_table_counts(sqls):
    # A count is fine only over a LIMITed subquery (the capped paginator); COUNT(*) of a whole table is not.
    return [sql for sql in sqls if re.search(r"COUNT\(", sql, re.I) and "LIMIT" not in sql.upper()]


def test_lists_run_the_same_queries_for_ten_rows_and_ten_thousand(client, hubs, staff_ke_mba, token_client):
    hub = hubs["KE-MBA"]
    client.force_login(staff_ke_mba)
    api = token_client(staff_ke_mba)

    def measure():
        counts = {}
        for name, url in PAGES:
            url = url.format(hub=hub.pk)
            sqls = _queries(api if url.startswith("/api/") else client, url)
            assert not _whole_table_counts(sqls), (name, _whole_table_counts(sqls))
            counts[name] = len(sqls)
        return counts

    _devices(10, hub=hub, start=0)
    few = measure()
    _devices(MANY - 10, hub=hub, start=10)
    assert Device.objects.count() == MANY
    many = measure()
    assert many == few
