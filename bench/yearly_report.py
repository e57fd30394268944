"""A donor's yearly report for 100,000 devices: time to issue it, to write its XLSX and its PDF, and peak memory.

One donor with N devices in one calendar year (the current one), on PostgreSQL in this benchmark's own database:
half reused (delivered to projects in two countries, three kinds), 30% recycled in ten batches to two vendors, 5%
missing, the rest received and waiting; a tenth without a weight. The data is built with ``bulk_create`` (devices,
their events and the recycling batches, as the lifecycle would have written them), once per run.

Measured in this one Django process, as the donor portal and its downloads run them:
- **issue**: ``impact.reports.yearly_report_issue`` (stream the donor's events, write one line per device in batches,
  sum the figures in SQL, seal), committed;
- **XLSX**: ``yearly_report_xlsx`` (write-only workbook, every line) to a temporary file;
- **PDF**: ``yearly_report_pdf`` (the figures; the devices are in the XLSX).

Baseline in the same run (docs: measure a ratio): the same three steps for a donor with ``--small`` devices (1,000 by
default), interleaved small, large, small, large... after one warm-up pair that is not counted; the per-device ratio
large/small says whether the cost stays flat per device. Peak memory is measured in one more untimed run of each
step: tracemalloc's peak of Python allocations, and the growth of the resident set's high-water mark (VmHWM, reset
before each step).

    .venv/bin/python bench/yearly_report.py [--devices 100000 --small 1000 --rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import banner, django_env, migrate, recreate_database, spread

BATCH = 5000


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def build_donor(name: str, count: int, *, hubs, projects, batches, start) -> object:
    """A donor with ``count`` devices and their events, bulk-written as the lifecycle would have written them."""
    from datetime import timedelta

    from donations.models import Donation, Donor
    from refurbishing.models import Device, DeviceEvent, RecyclingBatchDevice, label_codes_new

    donor = Donor.objects.create(
        legal_name=name,
        registration_number=f"BE{abs(hash(name)) % 10**10:010d}",
        country="BE",
        address="Bench street 1",
        contact_name="Bench",
        contact_phone="+3220000000",
    )
    donations = [
        Donation.objects.create(
            reference=f"B-{donor.pk}-{hub.code}",
            donor=donor,
            hub=hub,
            pickup_address="Bench street 1",
            status="received",
        )
        for hub in hubs
    ]
    categories = ["laptop", "desktop", "monitor", "smartphone", "tablet"]
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        codes = label_codes_new(n)
        devices = []
        plan = []
        for i in range(n):
            k = made + i
            share = k % 20  # 0-9 reused, 10-15 recycled, 16 missing, 17-19 waiting
            outcome = "reused" if share < 10 else "recycled" if share < 16 else "missing" if share == 16 else ""
            state = {"reused": "delivered", "recycled": "recycled", "missing": "missing", "": "received"}[outcome]
            hub = hubs[k % len(hubs)]
            devices.append(
                Device(
                    donation=donations[k % len(hubs)],
                    hub=hub,
                    category=categories[k % len(categories)],
                    manufacturer="Dell",
                    model="Latitude 5490" if k % 7 else "Philips 107 CRT",
                    serial_number=f"{donor.pk}-{k:07d}",
                    label_code=codes[i],
                    weight_kg=None if k % 10 == 9 else Decimal("1.85"),
                    weight_basis="" if k % 10 == 9 else "declared",
                    state=state,
                )
            )
            plan.append((outcome, hub))
        Device.objects.bulk_create(devices, batch_size=BATCH)
        events, items = [], []
        for index, (device, (outcome, hub)) in enumerate(zip(devices, plan, strict=True)):
            moment = start + timedelta(seconds=made + index)
            events.append(DeviceEvent(device=device, action="pledge", to_state="pledged", hub=hub, occurred_at=moment))
            if outcome == "missing":
                events.append(
                    DeviceEvent(
                        device=device,
                        action="mark_missing",
                        from_state="pledged",
                        to_state="missing",
                        hub=hub,
                        occurred_at=moment,
                    )
                )
                continue
            events.append(
                DeviceEvent(
                    device=device,
                    action="receive",
                    from_state="pledged",
                    to_state="received",
                    hub=hub,
                    occurred_at=moment,
                )
            )
            if outcome == "reused":
                project = projects[(made + index) % len(projects)]
                data = {"project_id": project.pk, "project_kind": project.kind, "beneficiaries": 3}
                events.append(
                    DeviceEvent(
                        device=device,
                        action="deliver",
                        from_state="shipped",
                        to_state="delivered",
                        hub=hub,
                        occurred_at=moment + timedelta(days=30),
                        data=data,
                    )
                )
            elif outcome == "recycled":
                batch = batches[(made + index) % len(batches)]
                data = {"weight_kg": "2.10", "recycling_batch": batch.reference}
                events.append(
                    DeviceEvent(
                        device=device,
                        action="recycle",
                        from_state="to_recycle",
                        to_state="recycled",
                        hub=hub,
                        occurred_at=moment + timedelta(days=20),
                        data=data,
                    )
                )
                items.append(RecyclingBatchDevice(batch=batch, device=device))
        DeviceEvent.objects.bulk_create(events, batch_size=BATCH)
        RecyclingBatchDevice.objects.bulk_create(items, batch_size=BATCH)
        made += n
    return donor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="closegap_bench_yearly_report")
    args = parser.parse_args()
    banner(f"Yearly report of a donor with {args.devices:,} devices: issue, XLSX, PDF, peak memory")

    recreate_database(args.database)
    env = django_env(db_name=args.database, redis_db=None)
    print(migrate(env))
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from hubs.models import Hub, HubKind
    from impact.reports import yearly_report_bounds, yearly_report_current_year, yearly_report_issue
    from impact.reports.documents import yearly_report_pdf, yearly_report_xlsx
    from projects.models import Project
    from refurbishing.models import RecyclingBatch, RecyclingPartner

    kind = HubKind.objects.get(code="refurbishing_hub")
    hubs = [
        Hub.objects.create(code="BE-BRU", name="Brussels", country="BE", city="Brussels", kind=kind),
        Hub.objects.create(code="KE-MBA", name="Mombasa", country="KE", city="Mombasa", kind=kind),
    ]
    projects = [
        Project.objects.create(
            organisation=f"Bench {i}",
            name=f"Lab {i}",
            kind=kind_code,
            country=country,
            hub=hubs[1],
            expected_beneficiaries=10**6,
        )
        for i, (kind_code, country) in enumerate([("education", "KE"), ("medical", "TZ"), ("social", "UG")])
    ]
    vendors = [
        RecyclingPartner.objects.create(name=name, country=country, certification="weeelabex")
        for name, country in (("Bench Recyclers", "KE"), ("Bench Metal", "BE"))
    ]
    batches = [
        RecyclingBatch.objects.create(
            hub=hubs[i % 2],
            partner=vendors[i % 2],
            reference=f"RB-BENCH-{i}",
            status="closed",
            total_weight_kg=Decimal("1000"),
            closed_at=timezone.now(),
        )
        for i in range(10)
    ]
    year = yearly_report_current_year()
    start, _end = yearly_report_bounds(year)
    started = time.perf_counter()
    donors = {
        "large": build_donor(
            "Bench Large NV", args.devices, hubs=hubs, projects=projects, batches=batches, start=start
        ),
        "small": build_donor("Bench Small NV", args.small, hubs=hubs, projects=projects, batches=batches, start=start),
    }
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"data    : {args.devices:,} + {args.small:,} devices with their events built in "
        f"{time.perf_counter() - started:.1f} s (bulk_create), then ANALYZE"
    )
    sizes = {"large": args.devices, "small": args.small}
    url = "https://bench.example/verify/NUMBER/"
    rounds = {"issue": 0}

    def issue(key: str):
        rounds["issue"] += 1
        return yearly_report_issue(donor=donors[key], year=year, actor=None, reason=f"bench round {rounds['issue']}")

    def step_times(key: str) -> tuple[float, float, float, object]:
        t0 = time.perf_counter()
        report = issue(key)
        t1 = time.perf_counter()
        with tempfile.TemporaryFile() as target:
            yearly_report_xlsx(report, target=target, verify_url=url)
            t2 = time.perf_counter()
            size = target.tell()
        pdf = yearly_report_pdf(report, verify_url=url)
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, (report, size, len(pdf))

    print(f"rounds  : {args.rounds} counted after one warm-up pair; order small, large each round")
    step_times("small")
    step_times("large")
    samples: dict[str, dict[str, list[float]]] = {k: {"issue": [], "xlsx": [], "pdf": []} for k in sizes}
    last = {}
    for n in range(args.rounds):
        for key in ("small", "large"):
            a, b, c, extra = step_times(key)
            samples[key]["issue"].append(a)
            samples[key]["xlsx"].append(b)
            samples[key]["pdf"].append(c)
            last[key] = extra
            print(f"round {n + 1} {key:5}: issue {a:7.2f} s   XLSX {b:7.2f} s   PDF {c:5.2f} s")

    report, xlsx_size, pdf_size = last["large"]
    f = report.figures
    print(
        f"report  : {f['lines']:,} lines; received {f['received']:,}, reused {f['reused']:,}, recycled "
        f"{f['recycled']:,}, missing {f['missing']:,}; XLSX {xlsx_size / 1e6:.1f} MB, PDF {pdf_size / 1e3:.0f} KB"
    )

    def traced(label: str, work) -> None:
        before = rss_kb("VmRSS")
        reset_peak_rss()
        tracemalloc.start()
        work()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        growth = rss_kb("VmHWM") - before
        print(f"memory  : {label:5} tracemalloc peak {peak / 1e6:6.1f} MB   peak RSS growth {growth / 1024:6.1f} MB")

    traced("issue", lambda: last.update(traced_report=issue("large")))

    def xlsx() -> None:
        with tempfile.TemporaryFile() as target:
            yearly_report_xlsx(last["traced_report"], target=target, verify_url=url)

    traced("XLSX", xlsx)
    traced("PDF", lambda: yearly_report_pdf(last["traced_report"], verify_url=url))

    print("--- results")
    for step in ("issue", "xlsx", "pdf"):
        large = statistics.median(samples["large"][step])
        small = statistics.median(samples["small"][step])
        per_device = (large / sizes["large"]) / (small / sizes["small"]) if small else float("nan")
        print(
            f"{step:5}: {args.devices:,} devices median {large:7.2f} s (spread {spread(samples['large'][step])}); "
            f"{args.small:,} devices {small:6.3f} s; per-device ratio large/small {per_device:.2f}"
        )
    print("previous attempt (same task, 100,000 devices): issue 54 s, XLSX 78 s")
    medians = {step: statistics.median(samples["large"][step]) for step in ("issue", "xlsx", "pdf")}
    print(
        f"RESULT yearly report of {args.devices:,} devices: issue {medians['issue']:.2f} s, "
        f"XLSX {medians['xlsx']:.2f} s, PDF {medians['pdf']:.2f} s"
    )


if __name__ == "__main__":
    main()
