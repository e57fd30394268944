"""Scan lookup cost independent of the fleet: the scan station finding a device among 2,000,000 vs 10,000.

Two PostgreSQL databases with the real schema (``migrate``), filled in SQL with ``generate_series``: five hubs,
a donor and a donation per hub, devices with a serial number, an asset tag and a label code each (and their
pledge event, so a card has its history), then VACUUM ANALYZE. A hub technician of all five hubs is signed in
with a session, as on a phone. One gunicorn per database (same settings, one sync worker each) answers.

Each round asks both servers, interleaved, for the same number of random existing devices: by serial number,
by asset tag and by label code, each as ``GET /en/scan/?code=...`` with ``X-Fragment: 1`` (what scan.js sends from
the station at ``/<language>/scan/``), end to end through HTTP. A lookup counts only if the answer is the device's card.

Target in the issue "At the bench": median(large / small) <= 1.3.
"""

from __future__ import annotations

import http.client
import os
import random
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import (
    DEVICE_UNWEIGHED_COLUMNS,
    DEVICE_UNWEIGHED_VALUES,
    Processes,
    banner,
    bulk_load,
    django_env,
    generated_database,
    interleaved,
    median,
    percentile,
    results_dir,
    signed_in,
    size_parser,
    spread,
    start_gunicorn,
)
from demo.data import HUBS

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"  # refurbishing.models.LABEL_CODE_ALPHABET
MODULUS = len(ALPHABET) ** 8
MULTIPLIER = 2654435761  # prime, coprime with 23**8: i -> i * M mod 23**8 is one-to-one, so codes are unique
KINDS = ("serial", "asset tag", "label code")


def label_code(i: int) -> str:
    x = (i * MULTIPLIER) % MODULUS
    return "".join(ALPHABET[(x // len(ALPHABET) ** k) % len(ALPHABET)] for k in range(8))


def _label_code_sql(column: str) -> str:
    x = f"(({column}::bigint * {MULTIPLIER}) % {MODULUS})"
    parts = [f"substr('{ALPHABET}', (({x} / {len(ALPHABET) ** k}) % {len(ALPHABET)})::int + 1, 1)" for k in range(8)]
    return " || ".join(parts)


def code_for(kind: str, i: int) -> str:
    return {"serial": f"5CG{i:09d}", "asset tag": f"ACME-{i:08d}", "label code": label_code(i)}[kind]


def generate(name: str, devices: int) -> str:
    started = time.monotonic()
    n_hubs = len(HUBS)
    with generated_database(name) as (conn, note):
        with bulk_load(conn):
            conn.execute(
                f"""INSERT INTO refurbishing_device
                    (id, category, manufacturer, model, serial_number, asset_tag, label_code, has_storage_media,
                     cpu, ram_gb, storage_gb, grade, state, version, created_at, updated_at, donation_id, hub_id,
                     storage_kind, {DEVICE_UNWEIGHED_COLUMNS})
                    SELECT d, 'laptop', 'HP', 'EliteBook 840 G5', '5CG' || lpad(d::text, 9, '0'),
                           'ACME-' || lpad(d::text, 8, '0'), {_label_code_sql("d")}, true,
                           'Intel Core i5-8350U', 8, 256, '', 'pledged', 0, now(), now(),
                           1 + d % {n_hubs}, 1 + d % {n_hubs}, 'ssd', {DEVICE_UNWEIGHED_VALUES}
                    FROM generate_series(1, {devices}) AS d"""
            )
            conn.execute(
                f"""INSERT INTO refurbishing_deviceevent
                    (action, from_state, to_state, data, occurred_at, recorded_at, note, impact_counted, actor_id,
                     device_id, hub_id)
                    SELECT 'pledge', '', 'pledged', jsonb_build_object('donation_id', 1 + d % {n_hubs}), now(), now(),
                           '', true, NULL, d, 1 + d % {n_hubs}
                    FROM generate_series(1, {devices}) AS d"""
            )
        conn.execute("SELECT setval(pg_get_serial_sequence('refurbishing_device', 'id'), %s)", (devices,))
        conn.execute("VACUUM (ANALYZE) refurbishing_device")
        conn.execute("VACUUM (ANALYZE) refurbishing_deviceevent")
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('refurbishing_device'))").fetchone()[0]
    return f"{note}; {devices:,} devices ({size} with indexes) generated in {time.monotonic() - started:.0f} s"


def lookup(base: str, session: str, code: str) -> float:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.perf_counter()
    conn.request(
        "GET", f"/en/scan/?code={code}", headers={"Cookie": f"sessionid={session}", "X-Fragment": "1", "Host": host}
    )
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 200 or b'data-scan-outcome="device"' not in body or code.encode() not in body:
        raise RuntimeError(f"{base} /en/scan/?code={code} answered {response.status}: {body[:300]!r}")
    return elapsed


def main() -> int:
    parser = size_parser(__doc__, small=10_000, large=2_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-kind", type=int, default=60, help="lookups per kind, per database, per round")
    parser.add_argument("--db-prefix", default="closegap_bench_scan_", help="the databases' names start with this")
    args = parser.parse_args()
    banner("scan lookup: 2,000,000 devices vs 10,000, through HTTP")
    sizes = {"small": args.small, "large": args.large}
    procs = Processes()
    rng = random.Random(9)
    try:
        servers = {}
        for key, devices in sizes.items():
            name = f"{args.db_prefix}{devices}"
            print(f"data    : {key}: generating {name} ...", flush=True)
            print(f"          {generate(name, devices)}", flush=True)
            env = django_env(db_name=name, redis_db=None)
            session, _token = signed_in(env, username="bench-technician", role="technician", second_factor=True)
            base = start_gunicorn(procs, env, workers=1, log_dir=results_dir() / "logs" / f"scan_{key}")
            servers[key] = (base, session)
        print("server  : gunicorn closegap.wsgi, 1 sync worker per database, production settings, plain HTTP")
        # Warm-up (not counted): each server's process, connection and the indexes' upper pages.
        for key, (base, session) in servers.items():
            for _ in range(30):
                lookup(base, session, code_for(rng.choice(KINDS), rng.randint(1, sizes[key])))
        print()
        print(
            f"{'round':>5} {'kind':>11} {'small ms':>9} {'large ms':>9} {'large/small':>12}"
            f"   (medians of {args.per_kind})"
        )
        ratios: dict[str, list[float]] = {kind: [] for kind in KINDS}
        all_ratios = []
        samples: dict[str, list[float]] = {"small": [], "large": []}
        for round_no in range(1, args.rounds + 1):
            for kind in KINDS:
                times = interleaved(
                    rng,
                    args.per_kind,
                    lambda key, kind=kind: lookup(*servers[key], code_for(kind, rng.randint(1, sizes[key]))),
                )
                small, large = median(times["small"]), median(times["large"])
                samples["small"] += times["small"]
                samples["large"] += times["large"]
                ratios[kind].append(large / small)
                all_ratios.append(large / small)
                print(f"{round_no:>5} {kind:>11} {small * 1000:>9.2f} {large * 1000:>9.2f} {large / small:>12.2f}")
        print()
        for key in ("small", "large"):
            ms = [s * 1000 for s in samples[key]]
            print(
                f"{key:>5}: {sizes[key]:>9,} devices  median {median(ms):.2f} ms  p95 {percentile(ms, 95):.2f} ms"
                f"  ({len(ms)} lookups)"
            )
        for kind in KINDS:
            print(f"{kind:>11}: median large/small {median(ratios[kind]):.2f} (spread {spread(ratios[kind])})")
        print(f"RESULT scan_lookup: median large/small = {median(all_ratios):.2f} (target <= 1.3)")
    finally:
        procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
