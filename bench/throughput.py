"""Throughput of the public impact JSON and the home page against a trivial view on the same server.

A = /healthz/ (a view that does nothing: the framework's floor), B = /api/v1/impact/, C = /en/ (the home
page), D = / (the redirect to the visitor's language). One gunicorn (2 worker processes) serves all four; wrk
(-t1 -c16) loads them in turn, interleaved A, B, C, D, A, B, C, D, ... so that a busy moment on the shared
machine hits every URL alike. The figure that travels between machines is the ratio to A, not the requests
per second.

Targets (issue "A suite that passes on every day of the year...", item 4): B/A >= 0.90, C/A >= 0.80, D/A >= 0.90.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import (
    REPO,
    Processes,
    banner,
    django_env,
    flush_redis,
    http_status,
    manage,
    median,
    migrate,
    recreate_database,
    results_dir,
    spread,
    start_gunicorn,
)

DB_NAME = "closegap_bench_throughput"
REDIS_DB = 13
# "/" redirects to the visitor's language; the English home page is the page itself.
URLS = {"A": "/healthz/", "B": "/api/v1/impact/", "C": "/en/", "D": "/"}
# What each answers: "/" redirects (302, not followed: wrk counts the redirect itself), the others are pages.
EXPECTED = {"A": 200, "B": 200, "C": 200, "D": 302}
TARGETS = {"B": 0.90, "C": 0.80, "D": 0.90}
# What Chromium sends: every URL is asked for the way a browser asks, so a compressed answer is measured as sent.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"


def prepare(env: dict[str, str]) -> str:
    """Fresh database, demo data, everything folded, and the shared cache warm with the summary."""
    recreate_database(DB_NAME)
    flush_redis(REDIS_DB)
    migrated = migrate(env)
    # Production settings serve static files through a manifest; the home page needs it to render.
    manage(env, "collectstatic", "--noinput")
    os.environ.update(env)
    import django

    django.setup()
    # The database is this benchmark's own, freshly created: --force is safe (it refuses with DEBUG off).
    force = ["--force"] if "--force" in manage(env, "seed_demo", "--help").stdout else []
    manage(env, "seed_demo", *force)
    how = "manage.py seed_demo " + " ".join(force)
    from impact.selectors import impact_summary_refresh
    from impact.services import impact_fold_events

    folded = impact_fold_events()
    impact_summary_refresh()
    # The seeding queued fold tasks in this benchmark's Redis DB; no worker runs here, so drop them.
    flush_redis(REDIS_DB)
    impact_summary_refresh()
    return f"{migrated}\n          {how}; folded {folded} events; summary refreshed into Redis"


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_ERRORS = re.compile(r"Socket errors:.*")
WRK_LATENCY = re.compile(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)")


def wrk(url: str, *, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"Accept-Encoding: {ACCEPT_ENCODING}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(WRK_RPS.search(out).group(1))
    non2xx = int(m.group(1)) if (m := WRK_NON2XX.search(out)) else 0
    errors = m.group(0) if (m := WRK_ERRORS.search(out)) else ""
    latency = WRK_LATENCY.search(out).group(1) if WRK_LATENCY.search(out) else "?"
    return {"rps": rps, "non2xx": non2xx, "errors": errors, "latency_avg": latency}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    banner("throughput: public impact JSON and home page vs a trivial view")
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian package 'wrk'): apt-get install -y wrk")
        return 2
    env = django_env(db_name=DB_NAME, redis_db=REDIS_DB)
    print(
        f"server  : gunicorn closegap.wsgi, {args.workers} x {args.worker_class} workers, "
        "settings closegap.settings.production (DEBUG off, HTTPS redirect off for loopback), "
        f"DB {DB_NAME}, cache + broker Redis /{REDIS_DB}, IMPACT_LOCAL_CACHE_SECONDS default (1 s)"
    )
    print(f"load    : wrk -t1 -c{args.connections} -d{args.seconds}s, interleaved A,B,C,D x {args.rounds}")
    t0 = time.monotonic()
    print(f"setup   : {prepare(env)} ({time.monotonic() - t0:.1f} s)")
    sys.stdout.flush()

    procs = Processes()
    try:
        base = start_gunicorn(
            procs, env, workers=args.workers, worker_class=args.worker_class, log_dir=results_dir() / "logs"
        )
        statuses = {key: http_status(base + path, follow=False) for key, path in URLS.items()}
        for key, path in URLS.items():
            print(f"check   : {key} GET {path} -> HTTP {statuses[key]}")
        usable = {key: path for key, path in URLS.items() if statuses[key] == EXPECTED[key]}
        for key in sorted(set(URLS) - set(usable)):
            print(
                f"SKIPPED : {key} {URLS[key]} answers HTTP {statuses[key]}, not {EXPECTED[key]}: "
                "not measured (report it)"
            )
        if "A" not in usable:
            print("The trivial view does not answer 200: no baseline, nothing measured.")
            return 1

        # Warm-up, not counted: imports, connections (CONN_MAX_AGE), the per-process summary memo.
        for path in usable.values():
            wrk(base + path, seconds=3, connections=args.connections)
        print("warm    : one 3 s wrk run per URL (not counted): both workers imported, DB/Redis connections open,")
        print("          impact summary in Redis and in each worker's 1 s memo, PostgreSQL pages in memory")

        runs: dict[str, list[float]] = {key: [] for key in usable}
        print()
        print(f"{'round':>5} {'url':>3} {'path':<18} {'req/s':>10} {'avg latency':>12} {'non-2xx':>8}  socket errors")
        for rnd in range(1, args.rounds + 1):
            for key, path in usable.items():
                res = wrk(base + path, seconds=args.seconds, connections=args.connections)
                runs[key].append(res["rps"])
                print(
                    f"{rnd:>5} {key:>3} {path:<18} {res['rps']:>10.1f} {res['latency_avg']:>12} "
                    f"{res['non2xx']:>8}  {res['errors'] or '-'}"
                )
                sys.stdout.flush()
        print()
        for key in usable:
            print(f"{key} {URLS[key]:<18} req/s samples {[round(x, 1) for x in runs[key]]} spread {spread(runs[key])}")
        for key, target in TARGETS.items():
            if key not in runs:
                continue
            ratios = [b / a for b, a in zip(runs[key], runs["A"], strict=True)]
            verdict = "meets" if median(ratios) >= target else "MISSES"
            print(
                f"RESULT {key}/A ({URLS[key]} vs {URLS['A']}): per-round {[round(r, 3) for r in ratios]}, "
                f"median {median(ratios):.3f}   (target >= {target:.2f}: {verdict})"
            )
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
