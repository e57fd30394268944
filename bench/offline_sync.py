"""The offline scan station (issue 17): a queue of moves synced against the same moves one by one, and the device cache.

A. **Sync against one by one.** ``--moves`` (1,000) queued ``sanitise`` moves sent through ``POST /api/v1/sync/`` in
   batches of ``SYNC_MAX_MOVES`` (``refurbishing/scan/sync.py``), against the same number of ``sanitise`` moves posted
   one at a time through the transition API (``POST /api/v1/devices/ID/transitions/``, as a client that is online
   sends them), on the same server, the same database, in the same run. Each side of each round moves a donation of
   its own (fresh devices, all alike): received laptops with storage media, version 1, the same verified wipe in
   every move. Rounds alternate which side goes first, after a warm-up of ``--warm-up`` moves each (not counted);
   the figure is the median of the per-round ratios of moves per second (goal: sync >= 5x).
B. **The device cache.** A technician of a hub with ``--open`` (20,000) open devices (pledged, received, sanitised,
   inspected; plus delivered ones the cache must leave out) downloads ``GET /api/v1/sync/devices/`` for the first
   time, following the cursor while ``more``; then refreshes with the cursor when nothing changed; then after
   ``--changed`` (50) of its devices moved through the transition API (four in five received, still cached; one in
   five marked missing, ``gone``). Every request says ``Accept-Encoding: gzip``; bytes are counted as sent (status
   line, headers and body) and the body again uncompressed. Budget from the issue: under 2 MB compressed for the
   first download, a refresh in one small request.

The data is written once with ``bulk_create`` (devices and the events the lifecycle would have written, counted
for impact so no fold of old history lands in a timed move), in this benchmark's own database: a throwaway SQLite
file by default, or the PostgreSQL database ``--database-url`` names (a ``closegap_bench_*`` name; dropped and
created again). gunicorn (production settings, 2 sync workers) answers; the client is this process, one request at a
time over loopback, an API token per technician. Tasks run in-process after each commit (no broker) unless
``--redis-db`` queues them in that Redis DB (flushed before and after; no worker runs).

    .venv/bin/python bench/offline_sync.py [--moves 1000 --rounds 3 --open 20000 --changed 50]
    .venv/bin/python bench/offline_sync.py --database-url postgres://postgres@127.0.0.1:5432/closegap_bench_offline_sync
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import (
    Processes,
    banner,
    django_env,
    flush_redis,
    machine_load,
    manage,
    median,
    migrate,
    recreate_database,
    results_dir,
    spread,
    start_gunicorn,
)

WIPE = {
    "method": "purge",
    "technique": "NVMe Format with crypto erase",
    "tool": "nwipe",
    "tool_version": "0.34",
    "verification": "full",
    "verified": True,
}
TARGET_RATIO = 5.0
BUDGET_BYTES = 2_000_000
# A change younger than the cache's settle time is left for the next refresh (refurbishing.scan.sync.CACHE_SETTLE).
SETTLE_WAIT_S = 2.5

SETUP_SCRIPT = """
import json
import random
from datetime import timedelta
from django.utils import timezone
from rest_framework.authtoken.models import Token
from donations.models import Donation, Donor
from hubs.factories import StaffFactory
from hubs.models import Hub
from refurbishing.models import Device, DeviceEvent, label_codes_new
from refurbishing.scan.sync import CACHE_PAGE_SIZE, SYNC_MAX_MOVES

MOVE_BLOCKS, OPEN_DEVICES, CLOSED_DEVICES = %(move_blocks)r, %(open_devices)d, %(closed_devices)d
PATHS = {  # state: the lifecycle's moves that led there, in order
    "pledged": [("pledge", "", "pledged")],
    "received": [("pledge", "", "pledged"), ("receive", "pledged", "received")],
    "sanitised": [("pledge", "", "pledged"), ("receive", "pledged", "received"), ("sanitise", "received", "sanitised")],
    "inspected": [
        ("pledge", "", "pledged"), ("receive", "pledged", "received"), ("sanitise", "received", "sanitised"),
        ("inspect", "sanitised", "inspected"),
    ],
}
PATHS["delivered"] = PATHS["inspected"] + [
    ("configure", "inspected", "configured"), ("allocate", "configured", "allocated"),
    ("ship", "allocated", "shipped"), ("deliver", "shipped", "delivered"),
]
OPEN = ["pledged", "received", "sanitised", "inspected"]
start = timezone.now() - timedelta(days=30)
donor = Donor.objects.create(legal_name="Bench Donor NV", registration_number="BE0000000017", country="BE", address="x")


def devices_make(hub, states, prefix):
    donation = Donation.objects.create(
        reference=f"BENCH-{hub.code}-{prefix}", donor=donor, hub=hub, pickup_address="x", status="received"
    )
    made = []
    for chunk in range(0, len(states), 5000):
        part = states[chunk : chunk + 5000]
        codes = label_codes_new(len(part))
        devices = [
            Device(
                donation=donation, hub=hub, category="laptop", manufacturer="HP", model="EliteBook 840 G5",
                serial_number=f"{prefix}{chunk + i:09d}", asset_tag=f"ACME-{prefix}{chunk + i:08d}",
                label_code=codes[i], has_storage_media=True, storage_kind="ssd", cpu="Intel Core i5-8350U",
                ram_gb=8, storage_gb=256, state=state, version=len(PATHS[state]) - 1,
            )
            for i, state in enumerate(part)
        ]
        Device.objects.bulk_create(devices)
        events = [
            DeviceEvent(
                device=device, hub=hub, action=action, from_state=source, to_state=target, impact_counted=True,
                occurred_at=start + timedelta(seconds=chunk + i, minutes=step), data={},
                recorded_at=start + timedelta(seconds=chunk + i, minutes=step),
            )
            for i, device in enumerate(devices)
            for step, (action, source, target) in enumerate(PATHS[device.state])
        ]
        DeviceEvent.objects.bulk_create(events, batch_size=5000)
        made += devices
    # Last changed at their last move, a second apart (auto_now stamped them now: the cache would wait for them).
    for i, device in enumerate(made):
        device.updated_at = start + timedelta(seconds=i)
    Device.objects.bulk_update(made, ["updated_at"], batch_size=5000)
    return made


movers, cache = (
    Hub.objects.create(code="KE-MBA", name="Mombasa", country="KE", city="Mombasa", active=True),
    Hub.objects.create(code="CD-KIN", name="Kinshasa", country="CD", city="Kinshasa", active=True),
)
# Each side of each round moves a donation of its own, all alike: no side finds what the other left.
moved = [devices_make(movers, ["received"] * size, f"M{n}") for n, size in enumerate(MOVE_BLOCKS)]
states = [OPEN[i %% 4] for i in range(OPEN_DEVICES)] + ["delivered"] * CLOSED_DEVICES
random.Random(17).shuffle(states)  # the states mixed along the cache's order (last changed)
cached = devices_make(cache, states, "C")
out = {"sync_max_moves": SYNC_MAX_MOVES, "cache_page_size": CACHE_PAGE_SIZE}
for key, hub in (("mover", movers), ("cache", cache)):
    user = StaffFactory(username=f"bench-{key}", hub=hub)
    out[key] = {"id": user.pk, "token": Token.objects.create(user=user).key}
out["moves"] = [[[d.pk, d.label_code, d.version] for d in block] for block in moved]
out["pledged"] = [[d.pk, d.version] for d in cached if d.state == "pledged"]
with open(%(out)r, "w") as handle:
    json.dump(out, handle)
"""


class Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, seconds: float) -> None:
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def wire_bytes(self) -> int:
        """Bytes as sent: the status line, the headers and the body (compressed when the server compressed it)."""
        head = len("HTTP/1.1 200 OK\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in self.headers) + 2
        return head + len(self.body)

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    @property
    def plain(self) -> bytes:
        return gzip.decompress(self.body) if self.header("Content-Encoding") == "gzip" else self.body

    def json(self):
        return json.loads(self.plain)


def request(base: str, token: str, method: str, path: str, body: bytes | None = None) -> Answer:
    """One request on its own connection (gunicorn's sync workers close each one), timed to the last body byte."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    headers = {"Authorization": f"Token {token}", "Host": host, "Accept-Encoding": "gzip", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return Answer(response.status, response.getheaders(), data, elapsed)


# --- A: sync against one by one ------------------------------------------------------------------------------------


def one_by_one_bodies(devices: list[list]) -> list[tuple[str, bytes]]:
    return [
        (f"/api/v1/devices/{pk}/transitions/", json.dumps({"action": "sanitise", **WIPE, "version": version}).encode())
        for pk, _label, version in devices
    ]


def sync_bodies(devices: list[list], *, actor: int, batch: int) -> list[bytes]:
    now = datetime.now(UTC).isoformat()
    moves = [
        {
            "id": str(uuid.uuid4()),
            "code": label,
            "action": "sanitise",
            "fields": WIPE,
            "version": version,
            "occurred_at": now,
            "actor": actor,
        }
        for _pk, label, version in devices
    ]
    return [json.dumps({"moves": moves[i : i + batch]}).encode() for i in range(0, len(moves), batch)]


def run_one_by_one(base: str, token: str, bodies: list[tuple[str, bytes]]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for path, body in bodies:
        answer = request(base, token, "POST", path, body)
        if answer.status != 200 or answer.json().get("state") != "sanitised":
            raise RuntimeError(f"transition {path}: {answer.status} {answer.plain[:300]!r}")
        latencies.append(answer.seconds * 1000)
    return time.perf_counter() - started, latencies


def run_sync(base: str, token: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for body in bodies:
        answer = request(base, token, "POST", "/api/v1/sync/", body)
        statuses = {r["status"] for r in answer.json().get("results", [])} if answer.status == 200 else set()
        if statuses != {"applied"}:
            raise RuntimeError(f"sync: {answer.status} {statuses or answer.plain[:300]!r}")
        latencies.append(answer.seconds * 1000)
    return time.perf_counter() - started, latencies


# --- B: the device cache -------------------------------------------------------------------------------------------


def cache_fetch(base: str, token: str, cursor: str = "") -> dict:
    """Pages from ``cursor`` (from the start without one) until ``more`` is false: requests, bytes, time, rows."""
    pages, wire, plain, seconds, devices, gone = 0, 0, 0, 0.0, 0, 0
    encodings = set()
    while True:
        path = "/api/v1/sync/devices/" + (f"?cursor={urllib.parse.quote(cursor)}" if cursor else "")
        answer = request(base, token, "GET", path)
        if answer.status != 200:
            raise RuntimeError(f"cache {path}: {answer.status} {answer.plain[:300]!r}")
        page = answer.json()
        pages += 1
        wire += answer.wire_bytes
        plain += len(answer.plain)
        seconds += answer.seconds
        devices += len(page["devices"])
        gone += len(page["gone"])
        encodings.add(answer.header("Content-Encoding") or "identity")
        cursor = page["cursor"]
        if not page["more"]:
            break
    return {
        "requests": pages,
        "wire": wire,
        "plain": plain,
        "seconds": seconds,
        "devices": devices,
        "gone": gone,
        "cursor": cursor,
        "encoding": "/".join(sorted(encodings)),
    }


def devices_change(base: str, token: str, pledged: list[list], count: int) -> tuple[int, int]:
    """``count`` of the cache hub's pledged devices moved: four in five received, the rest marked missing."""
    kept = left = 0
    for n, (pk, version) in enumerate(pledged[:count]):
        action = "mark_missing" if n % 5 == 4 else "receive"
        body = json.dumps({"action": action, "version": version}).encode()
        answer = request(base, token, "POST", f"/api/v1/devices/{pk}/transitions/", body)
        if answer.status != 200:
            raise RuntimeError(f"{action} {pk}: {answer.status} {answer.plain[:300]!r}")
        if action == "receive":
            kept += 1
        else:
            left += 1
    del pledged[:count]
    return kept, left


def kb(n: float) -> str:
    return f"{n / 1000:,.1f} KB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--moves", type=int, default=1000, help="moves per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=50, help="moves per side before the rounds (not counted)")
    parser.add_argument("--open", type=int, default=20_000, help="open devices at the cache's hub")
    parser.add_argument("--closed", type=int, default=5_000, help="delivered devices there (not cached)")
    parser.add_argument("--changed", type=int, default=50, help="devices moved before the last refresh")
    parser.add_argument("--cache-rounds", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL database named closegap_bench_* (recreated); default: a throwaway SQLite file",
    )
    parser.add_argument(
        "--redis-db", type=int, default=None, help="queue tasks in this Redis DB (flushed; no worker runs)"
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    banner(f"offline sync: {args.moves:,} queued moves synced vs one by one; the cache of {args.open:,} devices")
    print(f"load    : {machine_load()} (start)")
    scratch = tempfile.mkdtemp(prefix="closegap-bench-offline-")
    procs = Processes()
    try:
        if args.database_url:
            name = args.database_url.rsplit("/", 1)[-1]
            recreate_database(name)  # refuses a name that is not a benchmark's own
            database, label = args.database_url, f"PostgreSQL {name}"
        else:
            database, label = f"sqlite:///{os.path.join(scratch, 'bench.sqlite3')}", "SQLite (a throwaway file)"
        if args.redis_db is not None:
            flush_redis(args.redis_db)
        env = django_env(db_name="unused", redis_db=args.redis_db, extra={"DATABASE_URL": database})
        migrate(env)
        move_blocks = [args.warm_up] * 2 + [args.moves] * (2 * args.rounds)
        move_devices = sum(move_blocks)
        out = os.path.join(scratch, "setup.json")
        started = time.monotonic()
        script = SETUP_SCRIPT % {
            "move_blocks": move_blocks,
            "open_devices": args.open,
            "closed_devices": args.closed,
            "out": out,
        }
        manage(env, "shell", "-c", script)
        with open(out) as handle:
            setup = json.load(handle)
        print(
            f"data    : {label}: {move_devices:,} received laptops to move (hub KE-MBA, a donation per side and "
            f"round); {args.open:,} open and "
            f"{args.closed:,} delivered devices at CD-KIN, with their events; built in "
            f"{time.monotonic() - started:.0f} s"
        )
        base = start_gunicorn(procs, env, workers=args.workers, log_dir=results_dir() / "logs" / "offline_sync")
        tasks = "queued in Redis, no worker" if args.redis_db is not None else "run in-process after each commit"
        print(
            f"server  : gunicorn closegap.wsgi, {args.workers} sync workers, production settings, tasks {tasks}; "
            "client: this process, one request at a time, a new connection each, API tokens"
        )
        batch = setup["sync_max_moves"]
        mover = setup["mover"]
        pool = setup["moves"]
        rng = random.Random(17)

        def take(count: int) -> list[list]:
            block = pool.pop(0)
            if len(block) != count:
                raise RuntimeError(f"a donation of {len(block)} devices where {count} were expected")
            return block

        # Warm-up: both paths once, both workers (imports, connections, the first queries' plans), not counted.
        run_one_by_one(base, mover["token"], one_by_one_bodies(take(args.warm_up)))
        run_sync(base, mover["token"], sync_bodies(take(args.warm_up), actor=mover["id"], batch=batch))
        print(f"warm-up : {args.warm_up} moves each way, not counted; worker processes and their connections warm")
        print()
        print(f"A. {args.moves:,} sanitise moves: one by one (transition API) vs queued (sync, {batch} a batch)")
        print(f"{'round':>5} {'order':>12} {'one/s':>8} {'sync/s':>8} {'ratio':>7}   latency medians")
        rates: dict[str, list[float]] = {"one": [], "sync": []}
        ratios, latencies = [], {"one": [], "sync": []}
        # Which side goes first: drawn for the first round, then alternating.
        order = ["sync", "one"] if rng.random() < 0.5 else ["one", "sync"]
        for round_no in range(1, args.rounds + 1):
            order = order[::-1]
            measured, this_round = {}, {}
            for side in order:
                devices = take(args.moves)
                if side == "one":
                    wall, lat = run_one_by_one(base, mover["token"], one_by_one_bodies(devices))
                else:
                    wall, lat = run_sync(base, mover["token"], sync_bodies(devices, actor=mover["id"], batch=batch))
                measured[side] = args.moves / wall
                rates[side].append(measured[side])
                latencies[side] += lat
                this_round[side] = median(lat)
            ratio = measured["sync"] / measured["one"]
            ratios.append(ratio)
            print(
                f"{round_no:>5} {'/'.join(order):>12} {measured['one']:>8.1f} {measured['sync']:>8.1f} {ratio:>7.2f}"
                f"   a move {this_round['one']:.1f} ms, a batch {this_round['sync']:.0f} ms"
            )
        print(
            f"one by one : median {median(rates['one']):.1f} moves/s (spread {spread(rates['one'])}), "
            f"a move median {median(latencies['one']):.1f} ms"
        )
        print(
            f"sync       : median {median(rates['sync']):.1f} moves/s (spread {spread(rates['sync'])}), "
            f"a batch of {batch} median {median(latencies['sync']):.0f} ms"
        )

        print()
        cache_token = setup["cache"]["token"]
        pledged = setup["pledged"]
        print(f"B. device cache of CD-KIN ({args.open:,} open devices), Accept-Encoding: gzip")
        warm = cache_fetch(base, cache_token)  # not counted
        if warm["devices"] != args.open:
            raise RuntimeError(f"the first download brought {warm['devices']:,} devices, not {args.open:,}")
        firsts = [cache_fetch(base, cache_token) for _ in range(args.cache_rounds)]
        first = firsts[-1]
        print(
            f"first download: {first['requests']} requests, {first['devices']:,} devices, {first['encoding']}; "
            f"{kb(first['wire'])} transferred ({kb(first['plain'])} uncompressed, "
            f"{first['plain'] / first['wire']:.1f}x)"
        )
        print(
            f"                time, {args.cache_rounds} rounds: "
            + ", ".join(f"{f['seconds'] * 1000:.0f}" for f in firsts)
            + f" ms; median {median(f['seconds'] for f in firsts) * 1000:.0f} ms"
        )
        quiet = [cache_fetch(base, cache_token, first["cursor"]) for _ in range(args.cache_rounds)]
        q = quiet[-1]
        print(
            f"quiet refresh : {q['requests']} request, {q['devices']} devices, {q['gone']} gone, {q['encoding']}; "
            f"{q['wire']:,} B transferred ({q['plain']:,} B uncompressed); median "
            f"{median(x['seconds'] for x in quiet) * 1000:.1f} ms"
        )
        changed = []
        for _ in range(args.cache_rounds):
            cursor = cache_fetch(base, cache_token, first["cursor"])["cursor"]
            kept, left = devices_change(base, cache_token, pledged, args.changed)
            time.sleep(SETTLE_WAIT_S)
            after = cache_fetch(base, cache_token, cursor)
            if (after["devices"], after["gone"]) != (kept, left):
                raise RuntimeError(f"refresh brought {after['devices']} devices and {after['gone']} gone")
            changed.append(after)
            first["cursor"] = after["cursor"]
        c = changed[-1]
        print(
            f"after {args.changed} moved: {c['requests']} request, {c['devices']} devices, {c['gone']} gone, "
            f"{c['encoding']}; {c['wire']:,} B transferred ({c['plain']:,} B uncompressed); median "
            f"{median(x['seconds'] for x in changed) * 1000:.1f} ms"
        )
        print(f"load    : {machine_load()} (end)")
        print()
        verdict = "met" if median(ratios) >= TARGET_RATIO else "MISSED"
        print(
            f"RESULT offline_sync moves: sync {median(rates['sync']):.1f} moves/s vs one by one "
            f"{median(rates['one']):.1f} moves/s; per-round ratios {[round(r, 2) for r in ratios]}, "
            f"median {median(ratios):.2f}x (goal >= {TARGET_RATIO:.0f}x: {verdict}) on {label}"
        )
        budget = "met" if first["wire"] < BUDGET_BYTES else "MISSED"
        print(
            f"RESULT offline_sync cache: first download of {first['devices']:,} devices {kb(first['wire'])} "
            f"compressed in {first['requests']} requests (budget < 2 MB: {budget}), median "
            f"{median(f['seconds'] for f in firsts) * 1000:.0f} ms; quiet refresh {q['wire']:,} B; after "
            f"{args.changed} changed {c['wire']:,} B in {c['requests']} request"
        )
    finally:
        procs.stop_all()
        if args.redis_db is not None:
            flush_redis(args.redis_db)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
