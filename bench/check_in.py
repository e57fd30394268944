"""Check-in speed: 1,000 scans of a donation through the API, one after another as a technician scans them.

A fresh PostgreSQL database with the real schema (``migrate``); a donation of 1,000 pledged laptops is made
through ``donations.services.donation_pledge`` (as the donor portal does) and a technician of its hub gets an
API token. gunicorn (production settings, 2 sync workers) answers. By default tasks run in-process after each
commit (no broker: the embedded mode, so the donation's status sync and the impact fold are in the figure);
with ``--redis-db N`` they are queued in Redis and no worker runs, which times the web request alone.

The client sends ``POST /api/v1/donations/REFERENCE/check-in/`` with ``{"scan": serial}`` for every device, in
a random order, waiting for each answer (a scanner sends one code at a time), then 100 scans of devices already
received, then closes the check-in. It prints scans per second and the latency of each kind of scan.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import (
    Processes,
    banner,
    django_env,
    flush_redis,
    manage,
    median,
    migrate,
    percentile,
    recreate_database,
    results_dir,
    start_gunicorn,
)

SETUP_SCRIPT = """
from rest_framework.authtoken.models import Token
from donations.models import Donor
from donations.services import donation_pledge
from hubs.factories import StaffFactory
from hubs.models import Hub
hub = Hub.objects.create(code="KE-MBA", name="Mombasa", country="KE", city="Mombasa", active=True)
donor = Donor.objects.create(legal_name="Bench Donor NV", registration_number="BE0000000011", country="BE", address="x")
rows = [
    {"category": "laptop", "manufacturer": "Dell", "model": "Latitude 5490", "serial_number": f"CI{n:06d}"}
    for n in range(%(devices)d)
]
donation = donation_pledge(donor=donor, hub=hub, pickup_address="x", rows=rows, actor=None)
user = StaffFactory(username="bench-technician", hub=hub)
print(donation.reference, Token.objects.create(user=user).key)
"""


def post(base: str, token: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    payload = json.dumps(body or {})
    started = time.perf_counter()
    conn.request(
        "POST",
        path,
        body=payload,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Host": host},
    )
    response = conn.getresponse()
    data = json.loads(response.read() or b"{}")
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, data, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--duplicates", type=int, default=100)
    parser.add_argument("--db", default="closegap_bench_check_in", help="the benchmark's database (recreated)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=None,
        help="queue tasks in this Redis DB (flushed before and after; no worker runs): the web request alone",
    )
    args = parser.parse_args()
    banner(f"check-in: {args.devices:,} scans through the API")
    procs = Processes()
    try:
        recreate_database(args.db)
        if args.redis_db is not None:
            flush_redis(args.redis_db)
        env = django_env(db_name=args.db, redis_db=args.redis_db)
        migrate(env)
        reference, token = manage(env, "shell", "-c", SETUP_SCRIPT % {"devices": args.devices}).stdout.split()[-2:]
        print(f"data    : {args.db}: donation {reference} with {args.devices:,} pledged devices (donation_pledge)")
        base = start_gunicorn(procs, env, workers=2, log_dir=results_dir() / "logs" / "check_in")
        tasks = "queued in Redis, no worker" if args.redis_db is not None else "run in-process after each commit"
        print(f"server  : gunicorn closegap.wsgi, 2 sync workers, production settings, tasks {tasks}")
        path = f"/api/v1/donations/{reference}/check-in/"
        serials = [f"CI{n:06d}" for n in range(args.devices)]
        random.Random(11).shuffle(serials)

        latencies = []
        started = time.perf_counter()
        for serial in serials:
            status, data, elapsed = post(base, token, path, {"scan": serial})
            if status != 200 or data.get("outcome") != "received":
                raise RuntimeError(f"scan {serial}: {status} {data}")
            latencies.append(elapsed * 1000)
        wall = time.perf_counter() - started

        duplicates = []
        for serial in serials[: args.duplicates]:
            status, data, elapsed = post(base, token, path, {"scan": serial})
            if status != 200 or data.get("outcome") != "already_received":
                raise RuntimeError(f"rescan {serial}: {status} {data}")
            duplicates.append(elapsed * 1000)
        status, summary, close_s = post(base, token, path + "close/")
        if status != 200 or summary.get("received") != args.devices:
            raise RuntimeError(f"close: {status} {summary}")

        print()
        print(
            f"received        : {len(latencies):,} scans in {wall:.1f} s = {len(latencies) / wall:.1f} scans/s"
            f"  (median {median(latencies):.1f} ms, p95 {percentile(latencies, 95):.1f} ms)"
        )
        print(
            f"already received: {len(duplicates)} rescans, median {median(duplicates):.1f} ms, "
            f"p95 {percentile(duplicates, 95):.1f} ms"
        )
        print(f"close           : {close_s * 1000:.0f} ms, summary {summary}")
        print(f"RESULT check_in: {len(latencies) / wall:.1f} scans/s over {len(latencies):,} scans through the API")
    finally:
        procs.stop_all()
        if args.redis_db is not None:
            flush_redis(args.redis_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
