"""Spreadsheet import vs a raw COPY: 100,000 rows end to end, events included, on PostgreSQL.

B (the import): ``donations.services.donation_import_spreadsheet`` on a CSV file of N rows, as the
``import_assets`` command and the import task run it: the file streamed and decoded, headers matched, every
row cleaned and checked (serial unique in the file and not yet registered, category, numbers), then the
devices and their ``pledge`` events written in one transaction, committed.
A (the baseline): ``COPY refurbishing_device FROM STDIN`` of the same N rows, already in the table's own
format (no parsing, no checks, no events), committed.

Both run in this one Django process against its own database, interleaved A, B, A, B... after one warm-up
pair that is not counted; each round uses fresh serial numbers so nothing collides. Printed: each round's
seconds, the median rate ratio B/A (target >= 0.25), and the import's peak memory growth: resident set (the
kernel's high-water mark, reset before the import) and, in one more untimed import, tracemalloc's peak of
Python allocations (target < 150 MB).

After commit the import queues one impact fold (a Celery task, as in production with a worker). That fold,
which marks the N pledge events counted (pledges add to no counter), runs in the worker, not in the person's
wait; it is timed here separately and printed too.

    .venv/bin/python bench/import_assets.py [--rows 100000 --rounds 3 --database closegap_bench_import_assets]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import banner, django_env, migrate, recreate_database, redis_url, results_dir

HEADERS = ["Serial number", "Manufacturer", "Model", "Asset tag", "Category", "CPU", "RAM (GB)", "Storage (GB)"]
HEADERS += ["Year", "Weight (kg)"]
MODELS = [
    ("Lenovo", "ThinkPad T14 Gen 1", "Laptop", "Intel Core i5-10210U"),
    ("Dell", "OptiPlex 7070", "Desktop", "Intel Core i5-9500"),
    ("HP", "EliteBook 840 G6", "Notebook", "Intel Core i5-8265U"),
    ("Iiyama", "ProLite XU2493HS", "Monitor", ""),
    ("Apple", "iPhone 11", "Smartphone", "A13 Bionic"),
]
CATEGORY = {"Laptop": "laptop", "Desktop": "desktop", "Notebook": "laptop", "Monitor": "monitor"}
CATEGORY["Smartphone"] = "smartphone"


def rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def reset_peak_rss() -> None:
    """Reset the kernel's resident high-water mark (VmHWM) to the current size (Linux clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def write_asset_list(path: Path, prefix: str, n: int) -> None:
    """A donor's file: CSV with a header row, the way the template and most exports look."""
    rng = random.Random(prefix)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for i in range(n):
            maker, model, kind, cpu = MODELS[i % len(MODELS)]
            ram = "" if kind == "Monitor" else str(rng.choice([4, 8, 16, 32]))
            storage = "" if kind == "Monitor" else str(rng.choice([128, 256, 512]))
            writer.writerow(
                [f"{prefix}{i:07d}", maker, model, f"INV-{prefix}{i:07d}", kind, cpu, ram, storage]
                + [str(rng.randint(2014, 2024)), f"{rng.uniform(0.2, 9):.2f}"]
            )


def table_rows_for_copy(path: Path, *, donation_id: int, hub_id: int, round_label: str) -> bytes:
    """The same rows in the device table's own COPY text format, prepared before the clock starts."""
    out = io.StringIO()
    now = "2026-01-01 00:00:00+00"
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        next(reader)
        for index, (serial, maker, model, tag, kind, cpu, ram, storage, year, weight) in enumerate(reader):
            category = CATEGORY[kind]
            media = "f" if category == "monitor" else "t"
            fields = [str(donation_id), str(hub_id), category, maker, model, serial, tag, media, cpu]
            # A label code per row, distinct per round ("Z" is outside the real codes' alphabet: no clash with them).
            code = f"Z{round_label[:1]}{index:06d}"
            fields += [ram or r"\N", storage or r"\N", year, weight, "", "pledged", "0", now, now, code]
            # Columns without a database default: the drive's kind and the weight's basis (WEEE category may be null).
            fields += ["", r"\N", "declared", ""]
            out.write("\t".join(fields) + "\n")
    return out.getvalue().encode()


COPY_COLUMNS = (
    "donation_id, hub_id, category, manufacturer, model, serial_number, asset_tag, has_storage_media, cpu, "
    "ram_gb, storage_gb, year, weight_kg, grade, state, version, created_at, updated_at, label_code, "
    "storage_kind, weee_category, weight_basis, weight_source"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="closegap_bench_import_assets")
    parser.add_argument("--redis-db", type=int, default=13)
    args = parser.parse_args()
    banner(f"Spreadsheet import of {args.rows:,} rows vs raw COPY (target: rate >= 0.25 of COPY, memory < 150 MB)")

    recreate_database(args.database)
    env = django_env(
        db_name=args.database,
        redis_db=args.redis_db,
        extra={"IMPORT_MAX_ROWS": str(max(args.rows, 100_000)), "IMPORT_MAX_FILE_BYTES": str(200 * 1000 * 1000)},
    )
    print(migrate(env))
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from django.db import connection, transaction

    from donations.factories import DonationFactory, DonorFactory
    from donations.services import donation_import_spreadsheet
    from hubs.models import Hub
    from impact.services import impact_fold_events
    from refurbishing.models import Device, DeviceEvent

    redis.Redis.from_url(redis_url(args.redis_db)).flushdb()
    hub = Hub.objects.create(code="BE-BRU", name="Brussels", country="BE", city="Brussels")
    donor = DonorFactory()
    work = results_dir() / "import_assets"
    work.mkdir(exist_ok=True)

    def copy_round(label: str) -> float:
        donation = DonationFactory(donor=donor, hub=hub, reference=f"DON-COPY-{label}")
        path = work / f"copy-{label}.csv"
        write_asset_list(path, f"C{label}-", args.rows)
        data = table_rows_for_copy(path, donation_id=donation.pk, hub_id=hub.pk, round_label=label)
        path.unlink()
        start = time.perf_counter()
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY refurbishing_device ({COPY_COLUMNS}) FROM STDIN") as copy,
        ):
            for offset in range(0, len(data), 1 << 20):
                copy.write(data[offset : offset + (1 << 20)])
        elapsed = time.perf_counter() - start
        assert Device.objects.filter(donation=donation).count() == args.rows
        return elapsed

    def import_round(label: str, *, trace: bool = False) -> tuple[float, int, int]:
        donation = DonationFactory(donor=donor, hub=hub, reference=f"DON-IMP-{label}")
        path = work / f"import-{label}.csv"
        write_asset_list(path, f"I{label}-", args.rows)
        before = rss_kb("VmRSS")
        reset_peak_rss()
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        with path.open("rb") as file:
            outcome = donation_import_spreadsheet(donation=donation, actor=None, file=file, filename=path.name)
        elapsed = time.perf_counter() - start
        traced = 0
        if trace:
            traced = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        peak_growth = rss_kb("VmHWM") - before
        path.unlink()
        assert outcome.ok and outcome.imported == args.rows, outcome.problems[:5]
        assert DeviceEvent.objects.filter(device__donation=donation, action="pledge").count() == args.rows
        return elapsed, peak_growth, traced

    print(f"rows    : {args.rows:,} per round; {args.rounds} counted rounds after one warm-up pair")
    print("warm    : database created and migrated in this run; the warm-up pair loads pages and code paths")
    copy_round("W")
    import_round("W")
    copies, imports, growths = [], [], []
    for n in range(args.rounds):
        a = copy_round(str(n))
        b, growth, _ = import_round(str(n))
        copies.append(a)
        imports.append(b)
        growths.append(growth)
        print(
            f"round {n + 1}: COPY {a:6.2f} s ({args.rows / a:9,.0f} rows/s)   "
            f"import {b:6.2f} s ({args.rows / b:9,.0f} rows/s)   ratio {a / b:.3f}   "
            f"import peak RSS growth {growth / 1024:6.1f} MB"
        )
    ratios = [a / b for a, b in zip(copies, imports, strict=True)]
    _, _, traced = import_round("T", trace=True)
    start = time.perf_counter()
    folded = impact_fold_events(batch_size=5000)
    fold_seconds = time.perf_counter() - start

    print("--- results")
    print(f"COPY rate          : median {statistics.median(args.rows / a for a in copies):,.0f} rows/s")
    print(f"import rate        : median {statistics.median(args.rows / b for b in imports):,.0f} rows/s")
    each = ", ".join(f"{r:.3f}" for r in ratios)
    print(f"import / COPY rate : median {statistics.median(ratios):.3f}  (rounds: {each})")
    print("target             : >= 0.25")
    print(f"peak RSS growth    : max {max(growths) / 1024:.1f} MB over the counted imports")
    print(f"tracemalloc peak   : {traced / 1e6:.1f} MB of Python allocations during one more import (untimed)")
    print("target             : < 150 MB")
    print(f"after commit       : the worker's impact fold of the {folded:,} pledge events took {fold_seconds:.2f} s")


if __name__ == "__main__":
    main()
