"""Page weight of the public home page, as a browser on a slow link pays it: bytes over the wire.

A real Chromium (Debian's, driven by Playwright) loads the home page of a production-like server (gunicorn,
production settings, collected and compressed static files, the demo data) twice in one browser profile:

- first load: an empty cache, every request counted until the page's ``load`` event (the live figures' first
  poll comes 5 s later and is not part of the load);
- repeat visit: the same address again in the same profile, as a person coming back to the page does.

Bytes are Chromium's own count of what crossed the network per request (``encodedDataLength``: headers plus the
compressed body); requests served from the browser cache count 0. Targets (issue "Reach"): first load under
25 KB transferred, repeat visit under 10 KB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._common import REPO, Processes, banner, django_env, results_dir, start_gunicorn
from bench.throughput import DB_NAME, REDIS_DB, prepare
from tests.chromium import chromium_launch


def load(page, url: str) -> list[dict]:
    """Navigate and return one row per network request: url, status, bytes on the wire, from cache."""
    session = page.context.new_cdp_session(page)
    rows: dict[str, dict] = {}
    session.on(
        "Network.responseReceived",
        lambda e: rows.setdefault(e["requestId"], {}).update(
            url=e["response"]["url"],
            status=e["response"]["status"],
            encoding=e["response"]["headers"].get(
                "content-encoding", e["response"]["headers"].get("Content-Encoding", "")
            ),
        ),
    )
    session.on(
        "Network.loadingFinished",
        lambda e: rows.setdefault(e["requestId"], {}).update(bytes=int(e["encodedDataLength"])),
    )
    session.on("Network.requestServedFromCache", lambda e: rows.setdefault(e["requestId"], {}).update(cached=True))
    session.send("Network.enable")
    page.goto(url, wait_until="load")
    time.sleep(0.5)  # let loadingFinished of the last responses arrive; the first live poll is 5 s away
    session.detach()
    return [
        {"url": r.get("url", "?"), "status": r.get("status", 0), "bytes": r.get("bytes", 0), **r}
        for r in rows.values()
        if "url" in r
    ]


def report(title: str, rows: list[dict], base: str) -> int:
    total = sum(r["bytes"] for r in rows)
    print(f"{title}: {len(rows)} requests, {total:,} bytes transferred ({total / 1024:.1f} KB)")
    for r in rows:
        how = "cache" if r.get("cached") else (r.get("encoding") or "identity")
        print(f"    {r['status']:>3} {r['bytes']:>7,} B  {how:<8} {r['url'].replace(base, '')}")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default="/en/", help="the page to weigh (default: the English home page)")
    args = parser.parse_args()

    banner("page weight: the home page's first load and repeat visit in Chromium")
    env = django_env(db_name=DB_NAME, redis_db=REDIS_DB)
    t0 = time.monotonic()
    print(f"setup   : {prepare(env)} ({time.monotonic() - t0:.1f} s)")
    from playwright.sync_api import sync_playwright

    procs = Processes()
    try:
        base = start_gunicorn(procs, env, workers=2, log_dir=results_dir() / "logs")
        url = base + args.path
        print(f"server  : gunicorn closegap.wsgi, production settings; page {args.path}")
        with sync_playwright() as playwright:
            browser = chromium_launch(playwright)  # CHROMIUM_PATH picks another Chromium
            try:
                context = browser.new_context(viewport={"width": 390, "height": 844})
                page = context.new_page()
                first = report("first load  ", load(page, url), base)
                repeat = report("repeat visit", load(page, url), base)
            finally:
                browser.close()
        print(
            f"RESULT first load {first / 1024:.1f} KB (target < 25 KB); "
            f"repeat visit {repeat / 1024:.1f} KB (target < 10 KB)"
        )
        return 0
    finally:
        procs.stop_all()


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
