"""Scan lookup cost independent of the fleet: the scan station finding a device among 2,000,000 vs 10,000.

Two PostgreSQL databases with the real schema (``migrate``), filled in SQL with ``generate_series``: five hubs,
a donor and a donation per hub, devices with a serial number, an asset tag and a label code each (and their
pledge event, so a card has its history), then VACUUM ANALYZE. A hub technician of all five hubs is signed in
with a session, as on a phone. One gunicorn per database (same settings, one sync worker each) answers.

Each round asks both servers, interleaved, for the same number of random existing devices: by serial number,
by asset tag and by label code, each as ``GET /scan/?code=...`` with ``X-Fragment: 1`` (what scan.js sends),
end to end through HTTP. A lookup counts only if the answer is the device's card.

Target in the issue "At the bench": median(large / small) <= 1.3.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import (
    Processes,
    banner,
    database_url,
    django_env,
    manage,
    median,
    migrate,
    percentile,
    recreate_database,
    results_dir,
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
    import psycopg

    started = time.monotonic()
    recreate_database(name)
    note = migrate(django_env(db_name=name, redis_db=None))
    n_hubs = len(HUBS)
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        with conn.transaction():
            for code, hub_name, country, city in HUBS:
                conn.execute(
                    "INSERT INTO hubs_hub (code, name, country, city, active) VALUES (%s, %s, %s, %s, true)",
                    (code, hub_name, country, city),
                )
            conn.execute(
                "INSERT INTO donations_donor (legal_name, registration_number, country, address, contact_name, "
                "contact_phone, created_at) "
                "VALUES ('Bench Donor NV', 'BE0000000009', 'BE', 'Bench street 1', 'Bench', '+3220000000', now())"
            )
            conn.execute(
                """INSERT INTO donations_donation
                   (reference, pickup_address, pledged_at, status, notes, hub_id, donor_id)
                   SELECT 'BENCH-' || h.code, 'Bench street 1', now(), 'received', '', h.id, d.id
                   FROM hubs_hub h CROSS JOIN donations_donor d ORDER BY h.id"""
            )
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # consistent by construction
            conn.execute(
                f"""INSERT INTO refurbishing_device
                    (id, category, manufacturer, model, serial_number, asset_tag, label_code, has_storage_media,
                     cpu, ram_gb, storage_gb, grade, state, version, created_at, updated_at, donation_id, hub_id)
                    SELECT d, 'laptop', 'HP', 'EliteBook 840 G5', '5CG' || lpad(d::text, 9, '0'),
                           'ACME-' || lpad(d::text, 8, '0'), {_label_code_sql("d")}, true,
                           'Intel Core i5-8350U', 8, 256, '', 'pledged', 0, now(), now(),
                           1 + d % {n_hubs}, 1 + d % {n_hubs}
                    FROM generate_series(1, {devices}) AS d"""
            )
            conn.execute(
                f"""INSERT INTO refurbishing_deviceevent
                    (action, from_state, to_state, data, occurred_at, note, impact_counted, actor_id, device_id, hub_id)
                    SELECT 'pledge', '', 'pledged', jsonb_build_object('donation_id', 1 + d % {n_hubs}), now(), '',
                           true, NULL, d, 1 + d % {n_hubs}
                    FROM generate_series(1, {devices}) AS d"""
            )
        conn.execute("SELECT setval(pg_get_serial_sequence('refurbishing_device', 'id'), %s)", (devices,))
        conn.execute("VACUUM (ANALYZE) refurbishing_device")
        conn.execute("VACUUM (ANALYZE) refurbishing_deviceevent")
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('refurbishing_device'))").fetchone()[0]
    return f"{note}; {devices:,} devices ({size} with indexes) generated in {time.monotonic() - started:.0f} s"


SESSION_SCRIPT = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from hubs.factories import StaffFactory
from hubs.models import Hub, HubMembership
user = StaffFactory(username="bench-technician")
for hub in Hub.objects.all():
    HubMembership.objects.get_or_create(user=user, hub=hub)
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "hubs.backends.EmailOrUsernameBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def signed_in_session(env: dict[str, str]) -> str:
    return manage(env, "shell", "-c", SESSION_SCRIPT).stdout.strip().splitlines()[-1]


def lookup(base: str, session: str, code: str) -> float:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.perf_counter()
    conn.request(
        "GET", f"/scan/?code={code}", headers={"Cookie": f"sessionid={session}", "X-Fragment": "1", "Host": host}
    )
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 200 or b'data-scan-outcome="device"' not in body or code.encode() not in body:
        raise RuntimeError(f"{base} /scan/?code={code} answered {response.status}: {body[:300]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=2_000_000)
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
            session = signed_in_session(env)
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
                times: dict[str, list[float]] = {"small": [], "large": []}
                for _ in range(args.per_kind):
                    for key in ("small", "large") if rng.random() < 0.5 else ("large", "small"):
                        base, session = servers[key]
                        times[key].append(lookup(base, session, code_for(kind, rng.randint(1, sizes[key]))))
                small, large = statistics.median(times["small"]), statistics.median(times["large"])
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
