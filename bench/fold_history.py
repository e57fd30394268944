"""Fold cost independent of history: folding 1,000 new events over 100,000 vs 10,000,000 counted ones.

Two PostgreSQL databases with the real schema (``migrate``), filled in SQL with ``generate_series``: hubs, a
donor and its donations, devices (events / 8: each went pledge -> ... -> delivered, 8 events), their events
already counted, and the counter cells those events add up to, then VACUUM ANALYZE (what a long-lived
database has had). Each round inserts 1,000 new uncounted events for random devices of the whole history
(worst case for caching) into each database, and times ``impact.services.impact_fold_events()`` over them
in a Django process connected to that database (one long-lived process per database, commands on stdin).

The timed call includes the summary refresh the fold triggers (built from the counter cells, which have the
same size in both databases because both histories span the same months).

Target in the issue "Public impact, live": median(large / small) <= 1.3.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import (
    DEVICE_UNWEIGHED_COLUMNS,
    DEVICE_UNWEIGHED_VALUES,
    REPO,
    Processes,
    banner,
    bulk_load,
    database_url,
    django_env,
    generated_database,
    median,
    results_dir,
    size_parser,
    spread,
)
from demo.data import HUBS

EVENTS_PER_DEVICE = 8
PATH_ACTIONS = ["pledge", "receive", "sanitise", "inspect", "configure", "allocate", "ship", "deliver"]
PATH_STATES = ["pledged", "received", "sanitised", "inspected", "configured", "allocated", "shipped", "delivered"]
CATEGORIES = ["laptop", "desktop", "monitor", "smartphone"]
KINDS = ["education", "medical", "entrepreneurship", "social"]
HISTORY_MONTHS = 36


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + v + "'" for v in values) + "]"


def _event_columns(d: str, k: str) -> str:
    """SQL for action, from_state, to_state and data of step ``k`` (0..7) of device ``d``'s path."""
    actions, states = _sql_array(PATH_ACTIONS), _sql_array(PATH_STATES)
    kinds = _sql_array(KINDS)
    return f"""
        ({actions})[{k} + 1],
        COALESCE(({states})[{k}], ''),
        ({states})[{k} + 1],
        CASE {k}
            WHEN 0 THEN jsonb_build_object('donation_id', 1 + {d} % {len(HUBS)})
            WHEN 2 THEN jsonb_build_object('method', 'purge', 'sanitisation_record_id', {d})
            WHEN 3 THEN jsonb_build_object('grade', 'B', 'inspection_record_id', {d})
            WHEN 5 THEN jsonb_build_object('project_id', 1 + {d} % 50, 'project_kind', ({kinds})[1 + {d} % 4])
            WHEN 6 THEN jsonb_build_object('project_id', 1 + {d} % 50, 'project_kind', ({kinds})[1 + {d} % 4])
            WHEN 7 THEN jsonb_build_object(
                'project_id', 1 + {d} % 50, 'project_kind', ({kinds})[1 + {d} % 4], 'beneficiaries', 1 + {d} % 40)
            ELSE '{{}}'::jsonb
        END"""


def schema_fingerprint() -> str:
    """Changes whenever a migration is added, so a reused database never hides a schema change."""
    names = sorted(str(p.relative_to(REPO)) for p in REPO.glob("*/migrations/0*.py"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]


def db_comment(events: int) -> str:
    return f"closegap bench fold_history events={events} schema={schema_fingerprint()}"


def can_reuse(name: str, events: int) -> bool:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return bool(row) and row[0] == db_comment(events)


def generate(name: str, events: int) -> str:
    """Fresh database, real schema, ``events`` counted events and their counter cells, built in SQL."""
    started = time.monotonic()
    devices = events // EVENTS_PER_DEVICE
    n_hubs = len(HUBS)
    with generated_database(name, maintenance_work_mem="1GB", work_mem="256MB", TimeZone="UTC") as (conn, note):
        with bulk_load(conn, "refurbishing_device", "refurbishing_deviceevent"):
            conn.execute(
                f"""INSERT INTO refurbishing_device
                    (id, category, manufacturer, model, serial_number, asset_tag, label_code, has_storage_media, cpu,
                     grade, state, version, created_at, updated_at, donation_id, hub_id, storage_kind,
                     {DEVICE_UNWEIGHED_COLUMNS})
                    SELECT d, ({_sql_array(CATEGORIES)})[1 + d % 4], 'Dell', 'Latitude 5400', 'SN' || d, '',
                           'F' || lpad(d::text, 7, '0'), true, '', 'B', 'delivered', 7, t.ts, t.ts + interval '14 days',
                           1 + d % {n_hubs}, 1 + d % {n_hubs}, 'ssd', {DEVICE_UNWEIGHED_VALUES}
                    FROM generate_series(1, {devices}) AS d,
                         LATERAL (SELECT now() - interval '{HISTORY_MONTHS} months'
                                         + (interval '{HISTORY_MONTHS} months' - interval '20 days')
                                         * (d::float8 / {devices}) AS ts) AS t"""
            )
            conn.execute(
                f"""INSERT INTO refurbishing_deviceevent
                    (id, action, from_state, to_state, data, occurred_at, recorded_at, note, impact_counted,
                     actor_id, device_id, hub_id)
                    SELECT i, {_event_columns("x.d", "x.k")}, x.at, x.at, '', true, NULL, x.d, 1 + x.d % {n_hubs}
                    FROM generate_series(1, {devices * EVENTS_PER_DEVICE}) AS i,
                         LATERAL (SELECT (i - 1) / {EVENTS_PER_DEVICE} + 1 AS d,
                                         (i - 1) % {EVENTS_PER_DEVICE} AS k) AS y,
                         -- Recorded as it happened: history written online (the offline-sync migration's backfill).
                         LATERAL (SELECT y.d, y.k, now() - interval '{HISTORY_MONTHS} months'
                                         + (interval '{HISTORY_MONTHS} months' - interval '20 days')
                                           * (y.d::float8 / {devices})
                                         + y.k * interval '2 days' AS at) AS x"""
            )
        for table in ("refurbishing_device", "refurbishing_deviceevent"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        # The counter cells these events add up to (what the fold would have written), by the fold's rules.
        metric_of = {
            "received": "devices_received",
            "sanitised": "devices_sanitised",
            "configured": "devices_refurbished",
            "delivered": "devices_delivered",
        }
        cases = " ".join(f"WHEN '{state}' THEN '{metric}'" for state, metric in metric_of.items())
        conn.execute(
            f"""INSERT INTO impact_impactcounter (metric, hub_id, project_kind, device_category, month, value)
                SELECT metric, hub_id, kind, category, month, sum(amount) FROM (
                    SELECT CASE e.to_state {cases} END AS metric, e.hub_id,
                           COALESCE(e.data->>'project_kind', '') AS kind,
                           ({_sql_array(CATEGORIES)})[1 + e.device_id % 4] AS category,
                           date_trunc('month', e.occurred_at)::date AS month, 1 AS amount
                    FROM refurbishing_deviceevent e WHERE e.to_state IN ({",".join(f"'{s}'" for s in metric_of)})
                    UNION ALL
                    SELECT 'beneficiaries_reached', e.hub_id, e.data->>'project_kind',
                           ({_sql_array(CATEGORIES)})[1 + e.device_id % 4],
                           date_trunc('month', e.occurred_at)::date, (e.data->>'beneficiaries')::int
                    FROM refurbishing_deviceevent e WHERE e.to_state = 'delivered'
                ) AS deltas GROUP BY metric, hub_id, kind, category, month"""
        )
        conn.execute("VACUUM (ANALYZE) refurbishing_device")
        conn.execute("VACUUM (ANALYZE) refurbishing_deviceevent")
        conn.execute("VACUUM (ANALYZE) impact_impactcounter")
        conn.execute(f"COMMENT ON DATABASE {name} IS '{db_comment(events)}'")
    return f"{note}; generated in {time.monotonic() - started:.0f} s"


def describe(name: str) -> str:
    import psycopg

    with psycopg.connect(database_url(name), autocommit=True) as conn:
        events = conn.execute("SELECT count(*) FROM refurbishing_deviceevent").fetchone()[0]
        devices = conn.execute("SELECT count(*) FROM refurbishing_device").fetchone()[0]
        cells = conn.execute("SELECT count(*) FROM impact_impactcounter").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('refurbishing_deviceevent'))").fetchone()
    return f"{events:,} events, {devices:,} devices, {cells:,} counter cells, events table {size[0]}"


def insert_new_events(name: str, count: int, seed: float) -> None:
    """``count`` new uncounted events for random devices of the whole history, committed, in SQL."""
    import psycopg

    with psycopg.connect(database_url(name), autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT setseed(%s)", (seed,))
        conn.execute(
            f"""INSERT INTO refurbishing_deviceevent
                (action, from_state, to_state, data, occurred_at, recorded_at, note, impact_counted, actor_id,
                 device_id, hub_id)
                SELECT {_event_columns("r.id", "(r.g % 8)")}, now(), now(), '', false, NULL, dv.id, dv.hub_id
                FROM (SELECT g, 1 + floor(random() * (SELECT max(id) FROM refurbishing_device))::bigint AS id
                      FROM generate_series(1, {count}) AS g) AS r
                JOIN refurbishing_device dv ON dv.id = r.id"""
        )


# --------------------------------------------------------------------------------------------------------------
# The timing process: Django connected to one database, one command per stdin line, one JSON line per answer.


def _label(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return "SAVEPOINT/RELEASE"
    table = re.search(r'(?:FROM|UPDATE|INTO)\s+"([^"]+)"', sql)
    return f"{verb} {table.group(1) if table else '?'}"


def worker() -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from impact.services import impact_fold_events

    def answer(payload: dict) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command == "fold":
            breakdown: dict[str, list[float]] = {}

            def timed(execute, sql, params, many, context, breakdown=breakdown):
                start = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    entry = breakdown.setdefault(_label(sql), [0, 0.0])
                    entry[0] += 1
                    entry[1] += time.perf_counter() - start

            with connection.execute_wrapper(timed):
                start = time.perf_counter()
                folded = impact_fold_events()
                seconds = time.perf_counter() - start
            answer({"seconds": seconds, "folded": folded, "breakdown": breakdown})
        elif command == "explain":
            # Fold inside a transaction that is rolled back at the end; each statement on the events table is
            # first run under EXPLAIN ANALYZE in a savepoint that is rolled back, then for real.
            plans: list[dict] = []
            busy = False

            def explain(execute, sql, params, many, context, plans=plans):
                nonlocal busy
                if not busy and not many and "refurbishing_deviceevent" in sql and _label(sql) != "SAVEPOINT/RELEASE":
                    busy = True
                    try:
                        with connection.cursor() as cursor:
                            cursor.execute("SAVEPOINT bench_explain")
                            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                            plan = "\n".join(row[0] for row in cursor.fetchall())
                            cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
                        plans.append({"query": _label(sql), "sql": sql[:300], "plan": plan})
                    finally:
                        busy = False
                return execute(sql, params, many, context)

            with transaction.atomic(), connection.execute_wrapper(explain):
                folded = impact_fold_events()
                transaction.set_rollback(True)
            answer({"folded": folded, "plans": plans})
        else:
            answer({"error": f"unknown command {command!r}"})


# --------------------------------------------------------------------------------------------------------------


def _ids(match: re.Match) -> str:
    """Shorten a literal list of a thousand ids in a plan to its length."""
    return f"'{{...{match.group(0).count(',') + 1} ids...}}'"


class Timer:
    def __init__(self, procs: Processes, name: str, log_dir: Path) -> None:
        self.name = name
        self.proc = procs.start_piped(
            f"fold-{name}",
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            django_env(db_name=name, redis_db=None),
            log_dir / f"fold_history_{name}.log",
        )

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"timing process for {self.name} exited; see bench/results/logs")
        return json.loads(line)


def main() -> int:
    parser = size_parser(__doc__, small=100_000, large=10_000_000, counted="events already counted")
    parser.add_argument("--new", type=int, default=1000, help="new events folded per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--repeat", type=int, default=3, help="measurements per database per round; the round takes their median"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a database an earlier run generated for the same size and schema (saves the generation time)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker()
        return 0

    banner("fold_history: impact_fold_events() over new events, small vs large history")
    sizes = {"small": args.small, "large": args.large}
    names = {key: f"closegap_bench_fold_{n}" for key, n in sizes.items()}
    for key, n in sizes.items():
        name = names[key]
        if args.reuse and can_reuse(name, n):
            import psycopg

            with psycopg.connect(database_url(name), autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE) refurbishing_deviceevent")
            print(f"data    : {key}: {name} reused (same size and schema, vacuumed)")
        else:
            print(f"data    : {key}: generating {name} ...", flush=True)
            print(f"          {generate(name, n)}")
        print(f"          {describe(name)}", flush=True)
    print(
        "settings: closegap.settings.production (no REDIS_URL: local memory cache), one long-lived Django "
        "process per database"
    )
    print(
        f"measure : {args.rounds} rounds x {args.repeat} alternating pairs; each measurement inserts {args.new} "
        "uncounted events (SQL, committed) then times the fold"
    )

    procs = Processes()
    log_dir = results_dir() / "logs"
    try:
        timers = {key: Timer(procs, names[key], log_dir) for key in sizes}
        for key, timer in timers.items():
            insert_new_events(timer.name, args.new, 0.5)
            warm = timer.ask("fold")
            print(f"warm-up : {key}: folded {warm['folded']} in {warm['seconds'] * 1000:.1f} ms (not counted)")
        print(
            "warm    : Django imported, DB connection open, new counter cells of this month created, "
            "both databases' pages in the OS page cache (just generated or vacuumed)"
        )
        times: dict[str, list[float]] = {key: [] for key in sizes}
        breakdowns: dict[str, list[dict]] = {key: [] for key in sizes}
        print()
        print(f"{'round':>5} {'small ms':>10} {'large ms':>10} {'large/small':>12}   (per-round medians of --repeat)")
        raw: dict[str, list[list[float]]] = {key: [] for key in sizes}
        for rnd in range(1, args.rounds + 1):
            for key in sizes:
                raw[key].append([])
            # Each round: small, large, small, large, ... each measurement folding freshly inserted events.
            for rep in range(args.repeat):
                for key, timer in timers.items():
                    insert_new_events(timer.name, args.new, (rnd * 10 + rep) / 1000)
                    result = timer.ask("fold")
                    if result["folded"] != args.new:
                        print(f"  note: {key} folded {result['folded']} events, expected {args.new}")
                    raw[key][-1].append(result["seconds"])
                    breakdowns[key].append(result["breakdown"])
            for key in sizes:
                times[key].append(median(raw[key][-1]))
            print(
                f"{rnd:>5} {times['small'][-1] * 1000:>10.1f} {times['large'][-1] * 1000:>10.1f} "
                f"{times['large'][-1] / times['small'][-1]:>12.2f}   raw ms small "
                f"{[round(t * 1000, 1) for t in raw['small'][-1]]} "
                f"large {[round(t * 1000, 1) for t in raw['large'][-1]]}",
                flush=True,
            )
        ratios = [b / a for a, b in zip(times["small"], times["large"], strict=True)]
        print()
        for key in sizes:
            flat = [t for group in raw[key] for t in group]
            print(
                f"{key:<5} fold ms, all {len(flat)} samples: median {median(flat) * 1000:.1f}, "
                f"min {min(flat) * 1000:.1f}, max {max(flat) * 1000:.1f}, spread {spread(flat)}"
            )
        print()
        print("where the time goes (median ms per fold, by statement; count per fold):")
        labels = sorted({label for key in sizes for b in breakdowns[key] for label in b})
        print(f"  {'statement':<40} {'n':>5} {'small ms':>10} {'large ms':>10} {'large/small':>12}")
        for label in labels:
            small = median(b.get(label, [0, 0.0])[1] for b in breakdowns["small"]) * 1000
            large = median(b.get(label, [0, 0.0])[1] for b in breakdowns["large"]) * 1000
            count = breakdowns["large"][-1].get(label, [0])[0]
            ratio = f"{large / small:.2f}" if small > 0 else "-"
            print(f"  {label:<40} {count:>5} {small:>10.2f} {large:>10.2f} {ratio:>12}")
        print()
        for key, timer in timers.items():
            insert_new_events(timer.name, args.new, 0.99)
            explained = timer.ask("explain")
            print(f"EXPLAIN ANALYZE of the statements on refurbishing_deviceevent, {key} DB ({sizes[key]:,} events):")
            for item in explained["plans"]:
                print(f"-- {item['query']}: {item['sql'][:160]}...")
                plan = re.sub(r"'\{[\d,]{60,}\}'", _ids, item["plan"])
                print("   " + plan.replace("\n", "\n   "))
            # Leave nothing uncounted behind for a --reuse run.
            timer.ask("fold")
        print()
        print(
            f"RESULT fold of {args.new} new events, {sizes['large']:,} vs {sizes['small']:,} counted events: "
            f"per-round large/small {[round(r, 2) for r in ratios]}, median {median(ratios):.2f}   (target <= 1.3)"
        )
        for timer in timers.values():
            timer.proc.stdin.write("quit\n")
            timer.proc.stdin.flush()
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
