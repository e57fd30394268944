"""Debian's Chromium, for the browser tests and the page-weight benchmark.

Playwright cannot download a browser of its own here, so it drives /usr/bin/chromium (or CHROMIUM_PATH). The
flags keep a headless Chromium from reaching for the network on its own (updates, sync, background fetches).
"""

import os

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_launch(playwright):
    """Start Chromium through a running ``sync_playwright()``; the caller closes it."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
