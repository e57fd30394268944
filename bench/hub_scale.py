"""Running a hub at scale: the admin and API lists, the event list and the hub dashboard at 10,000 devices and at
2,000,000 devices with 10,000,000 events, in the same run; then a bulk transition of 10,000 devices.

Two PostgreSQL databases with the real schema (``migrate``), filled in SQL with ``generate_series`` (the event
table's secondary indexes are dropped for the load and built again after, as a bulk load would): five hubs, a
donation per hub, devices, five chain-of-custody events per device spread over three years, and the dashboard's
weekly read model folded from those events. History grows, work in progress does not: in both databases 2,000
devices are in work (received ... to recycle), 1 in 100 is pledged, and the rest are delivered. A manager of all
five hubs (hub staff, not a superuser, so every list is scoped) is signed in with a session and an API token.
One gunicorn per database (same production settings, one sync worker each) answers.

Each round asks both servers, interleaved, for every page; a page counts only if it answers 200. Target in the
issue "Running a hub": for each page, median(large / small) <= 1.5.

Then, on the large database, ``POST /api/v1/devices/bulk/`` receives 10,000 pledged devices, timed from the POST
until ``GET /api/v1/devices/bulk/{id}/`` says the job is finished, so the figure is devices per second end to end
through HTTP, one chain-of-custody event each:

- as deployed: a gunicorn with ``REDIS_URL`` and a real Celery worker (prefork, 2 processes) that runs the chunks
  and every task the moves queue (impact fold, donor notifications);
- embedded (no broker, Celery eager: the zero-install default): the request moves the first chunk and each
  progress poll the next, with every task run in-process after each commit; on other pledged devices.
"""

from __future__ import annotations

import http.client
import json
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
    database_url,
    django_env,
    flush_redis,
    generated_database,
    interleaved,
    manage,
    median,
    redis_url,
    results_dir,
    signed_in,
    size_parser,
    spread,
    start_celery_worker,
    start_gunicorn,
)
from demo.data import HUBS

EVENTS_PER_DEVICE = 5
WORK_IN_PROGRESS = 2_000
PLEDGED_EVERY = 100  # 1 device in 100 is pledged: 20,000 at two million, room for both bulk runs
BULK_REDIS_DB = 12
WIP_STATES = ("received", "sanitised", "inspected", "configured", "allocated", "to_recycle")
ACTIONS = ("pledge", "receive", "sanitise", "inspect", "configure")


def _serial(i: int) -> str:
    return f"5CG{i:09d}"


def generate(name: str, devices: int) -> str:
    started = time.monotonic()
    n_hubs = len(HUBS)
    wip_states = "ARRAY[" + ",".join(f"'{s}'" for s in WIP_STATES) + "]"
    actions = "ARRAY[" + ",".join(f"'{a}'" for a in ACTIONS) + "]"
    with generated_database(name) as (conn, note):
        with bulk_load(conn, "refurbishing_device", "refurbishing_deviceevent"):
            conn.execute(
                f"""INSERT INTO refurbishing_device
                    (id, category, manufacturer, model, serial_number, asset_tag, label_code, has_storage_media,
                     cpu, ram_gb, storage_gb, grade, state, version, created_at, updated_at, donation_id, hub_id,
                     storage_kind, {DEVICE_UNWEIGHED_COLUMNS})
                    SELECT d, 'laptop', 'HP', 'EliteBook 840 G5', '5CG' || lpad(d::text, 9, '0'),
                           'ACME-' || lpad(d::text, 8, '0'), 'B' || lpad(d::text, 7, '0'), true,
                           'Intel Core i5-8350U', 8, 256, '',
                           CASE WHEN d % {PLEDGED_EVERY} = 0 THEN 'pledged'
                                WHEN d <= {WORK_IN_PROGRESS} THEN ({wip_states})[1 + d % 6]
                                ELSE 'delivered' END,
                           4, now() - interval '3 years', now() - (d % 60) * interval '1 day',
                           1 + d % {n_hubs}, 1 + d % {n_hubs}, 'ssd', {DEVICE_UNWEIGHED_VALUES}
                    FROM generate_series(1, {devices}) AS d"""
            )
            conn.execute(
                f"""INSERT INTO refurbishing_deviceevent
                    (action, from_state, to_state, data, occurred_at, recorded_at, note, impact_counted, actor_id,
                     device_id, hub_id)
                    SELECT ({actions})[s + 1], '', 'received', '{{}}'::jsonb, t.at, t.at, '', true, NULL, d,
                           1 + d % {n_hubs}
                    FROM generate_series(1, {devices}) AS d
                    CROSS JOIN generate_series(0, {EVENTS_PER_DEVICE - 1}) AS s
                    -- Recorded as it happened: history written online (the offline-sync migration's backfill).
                    CROSS JOIN LATERAL (SELECT now() - (d % 1095) * interval '1 day' + s * interval '1 hour' AS at)
                        AS t"""
            )
        conn.execute("SELECT setval(pg_get_serial_sequence('refurbishing_device', 'id'), %s)", (devices,))
        # The dashboard's read model, folded from the events once (the migration's backfill does the same).
        conn.execute(
            """INSERT INTO refurbishing_hubweeklythroughput (hub_id, week, action, count)
               SELECT hub_id, date_trunc('week', occurred_at)::date, action, count(*)
               FROM refurbishing_deviceevent WHERE action <> 'pledge' GROUP BY 1, 2, 3"""
        )
        for table in ("refurbishing_device", "refurbishing_deviceevent", "refurbishing_hubweeklythroughput"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('refurbishing_device') "
            "+ pg_total_relation_size('refurbishing_deviceevent'))"
        ).fetchone()[0]
        events = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'refurbishing_deviceevent'")
        events = events.fetchone()[0]
    return (
        f"{note}; {devices:,} devices, ~{events:,} events ({size} with indexes) generated in "
        f"{time.monotonic() - started:.0f} s"
    )


def request(base: str, auth: tuple[str, str], method: str, path: str, body: dict | None = None):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    headers = {"Host": host, "Accept-Language": "en"}
    if path.startswith("/api/"):
        headers["Authorization"] = f"Token {auth[1]}"
    else:
        headers["Cookie"] = f"sessionid={auth[0]}"
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status in (301, 302):
        data = f"to {response.getheader('Location')}".encode()
    return response.status, data, elapsed


def pages(devices: int) -> dict[str, str]:
    rng = random.Random(devices)
    serial = _serial(rng.randint(1, devices))
    return {
        "admin list": "/admin/refurbishing/device/",
        "admin hub+state": "/admin/refurbishing/device/?hub__id__exact=2&state__exact=received",
        "admin by serial": f"/admin/refurbishing/device/?q={serial}",
        "admin events": "/admin/refurbishing/deviceevent/",
        "API list": "/api/v1/devices/",
        "dashboard": "/en/hubs/KE-MBA/dashboard/",
    }


def timed_get(base: str, auth: tuple[str, str], path: str) -> float:
    status, body, elapsed = request(base, auth, "GET", path)
    if status != 200:
        raise RuntimeError(f"{base}{path} answered {status}: {body[:300]!r}")
    return elapsed


def bulk(base: str, auth: tuple[str, str], device_ids: list[int], mode: str) -> float:
    """Receive ``device_ids`` in one bulk job through the API; print and return devices per second."""
    started = time.perf_counter()
    status, body, _ = request(
        base, auth, "POST", "/api/v1/devices/bulk/", {"action": "receive", "device_ids": device_ids}
    )
    if status != 202:
        raise RuntimeError(f"bulk answered {status}: {body[:300]!r}")
    job = json.loads(body)
    polls = 0
    while not job["finished"]:
        if mode == "worker":
            time.sleep(0.25)  # the worker moves the chunks; the poll only reads the job
        status, body, _ = request(base, auth, "GET", f"/api/v1/devices/bulk/{job['id']}/")
        job = json.loads(body)
        polls += 1
    elapsed = time.perf_counter() - started
    if job["moved"] != len(device_ids):
        raise RuntimeError(f"bulk moved {job['moved']} of {len(device_ids)}: {job['refused'][:3]}")
    rate = job["moved"] / elapsed
    print(
        f"bulk    : {mode}: receive {job['total']:,} devices: moved {job['moved']:,}, skipped {job['skipped']:,}, "
        f"refused {job['refused_count']:,} in {elapsed:.1f} s ({polls} polls)"
    )
    print(f"RESULT hub_scale bulk ({mode}): {rate:.0f} devices per second (one event each)", flush=True)
    return rate


def bulk_runs(
    procs: Processes, name: str, auth: tuple[str, str], counts: dict[str, int], *, redis_db: int = BULK_REDIS_DB
) -> None:
    """The bulk receive as deployed (gunicorn + Redis + a worker), then embedded, each on its own pledged devices."""
    import psycopg

    with psycopg.connect(database_url(name)) as conn:  # still pledged (a --reuse run finds earlier runs' moves)
        pledged = [
            row[0] for row in conn.execute("SELECT id FROM refurbishing_device WHERE state = 'pledged' ORDER BY id")
        ]
    if sum(counts.values()) > len(pledged):
        raise SystemExit(f"only {len(pledged):,} devices are still pledged in {name}: run without --reuse")
    for mode, count in counts.items():
        if count <= 0:
            continue
        ids, pledged = pledged[:count], pledged[count:]
        log_dir = results_dir() / "logs" / f"hub_bulk_{mode}"
        if mode == "worker":
            flush_redis(redis_db)
            env = django_env(db_name=name, redis_db=redis_db)
            worker = start_celery_worker(procs, env, log_dir=log_dir)
            base = start_gunicorn(procs, env, workers=2, log_dir=log_dir)
            print(f"server  : {mode}: gunicorn (2 sync workers), REDIS_URL db {redis_db}, worker pid {worker.pid}")
        else:
            env = django_env(db_name=name, redis_db=None)
            base = start_gunicorn(procs, env, workers=1, log_dir=log_dir)
            print(f"server  : {mode}: gunicorn (1 sync worker), no broker: Celery eager")
        bulk(base, auth, ids, mode)
        if mode == "worker":
            # The moves are done; the tasks they queued (fold, donor notifications) may still be in the queue.
            started, queued = time.perf_counter(), redis_queue_length(redis_db)
            while redis_queue_length(redis_db):
                time.sleep(0.25)
            print(
                f"bulk    : worker: {queued:,} tasks queued at the end, done in {time.perf_counter() - started:.1f} s"
            )
        procs.stop_all()


def redis_queue_length(db: int) -> int:
    import redis

    return redis.Redis.from_url(redis_url(db)).llen("celery")


def main() -> int:
    parser = size_parser(__doc__, small=10_000, large=2_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-page", type=int, default=10, help="requests per page, per database, per round")
    parser.add_argument("--reuse", action="store_true", help="keep databases a previous run generated")
    parser.add_argument("--no-bulk", action="store_true")
    parser.add_argument("--bulk", type=int, default=10_000, help="pledged devices the bulk receive moves (worker)")
    parser.add_argument("--bulk-embedded", type=int, default=2_000, help="the same without a worker (0: skip)")
    parser.add_argument("--db-prefix", default="closegap_bench_hub_", help="the databases' names start with this")
    parser.add_argument("--redis-db", type=int, default=BULK_REDIS_DB, help="the Redis DB of the bulk run's queue")
    args = parser.parse_args()
    banner("running a hub: lists and dashboard at 2,000,000 devices vs 10,000, through HTTP; a bulk move")
    sizes = {"small": args.small, "large": args.large}
    procs = Processes()
    try:
        servers = {}
        for key, devices in sizes.items():
            name = f"{args.db_prefix}{devices}"
            if args.reuse:
                print(f"data    : {key}: reusing {name}", flush=True)
            else:
                print(f"data    : {key}: generating {name} ...", flush=True)
                print(f"          {generate(name, devices)}", flush=True)
            env = django_env(db_name=name, redis_db=None)
            if key == "small":  # production settings serve static files through a manifest (the admin needs it)
                manage(env, "collectstatic", "--noinput")
            auth = signed_in(env, username="bench-manager", role="manager", second_factor=True)
            base = start_gunicorn(procs, env, workers=1, log_dir=results_dir() / "logs" / f"hub_{key}")
            servers[key] = (base, auth)
        print("server  : gunicorn closegap.wsgi, 1 sync worker per database, production settings, plain HTTP")
        names = list(pages(1))
        for key, (base, auth) in servers.items():  # warm-up, not counted
            for path in pages(sizes[key]).values():
                for _ in range(3):
                    timed_get(base, auth, path)
        print()
        header = f"{'round':>5} {'page':>16} {'small ms':>9} {'large ms':>9} {'large/small':>12}"
        print(f"{header}   (medians of {args.per_page})")
        ratios: dict[str, list[float]] = {name: [] for name in names}
        ms: dict[str, dict[str, list[float]]] = {name: {"small": [], "large": []} for name in names}
        rng = random.Random(3)
        for round_no in range(1, args.rounds + 1):
            for name in names:
                times = interleaved(
                    rng, args.per_page, lambda key, name=name: timed_get(*servers[key], pages(sizes[key])[name])
                )
                small, large = median(times["small"]), median(times["large"])
                ms[name]["small"].append(small * 1000)
                ms[name]["large"].append(large * 1000)
                ratios[name].append(large / small)
                print(f"{round_no:>5} {name:>16} {small * 1000:>9.1f} {large * 1000:>9.1f} {large / small:>12.2f}")
        print()
        for name in names:
            print(
                f"RESULT hub_scale {name}: small {median(ms[name]['small']):.1f} ms, large "
                f"{median(ms[name]['large']):.1f} ms, median large/small {median(ratios[name]):.2f} "
                f"(spread {spread(ratios[name])}; target <= 1.5)"
            )
        if not args.no_bulk:
            print()
            procs.stop_all()  # the list servers are done; the bulk runs get the machine to themselves
            counts = {"worker": args.bulk, "embedded": args.bulk_embedded}
            bulk_runs(procs, f"{args.db_prefix}{args.large}", servers["large"][1], counts, redis_db=args.redis_db)
    finally:
        procs.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
