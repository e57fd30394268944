"""The live server of the browser tests, made to answer one request at a time (see conftest's ``live_server``)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Taken by the server around each request, and by a test around its own reads and writes when they must not
# overlap a request (tests/test_browser_offline.py).
LIVE_SERVER_LOCK = threading.RLock()


@contextmanager
def one_request_at_a_time(live_server) -> Iterator[None]:
    """While inside, the live server handles one request at a time, body included, under ``LIVE_SERVER_LOCK``."""
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def serialised(environ, start_response):
        with LIVE_SERVER_LOCK:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        return [body]

    httpd.set_app(serialised)
    try:
        yield
    finally:
        httpd.set_app(app)
