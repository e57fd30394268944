"""Shared helpers for the benchmarks: their own databases, a real server, clean-up, honest printing.

Every benchmark creates its own PostgreSQL database(s) (``closegap_bench_*``) and uses its own Redis DB
number, so it never touches test or development data. Servers listen on 127.0.0.1 only, and every process a
benchmark starts is stopped in a ``finally`` block, by its own process group.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv the benchmark runs in also holds gunicorn and celery

# Server-side connection to PostgreSQL (trust auth on loopback); the databases under it are ours.
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")

# The device columns a generator fills in SQL that no benchmark times: as a device registered before the WEEE
# weight defaults (no category, no weight basis or source; refurbishing migrations 0014 and 0016). They have no
# database default, so every raw INSERT INTO refurbishing_device names them.
DEVICE_UNWEIGHED_COLUMNS = "weee_category, weight_basis, weight_source"
DEVICE_UNWEIGHED_VALUES = "NULL, '', ''"


def banner(title: str, argv: Sequence[str] | None = None) -> None:
    """Print what ran, where and when, so a figure can always be traced back to the command that made it."""
    argv = list(sys.argv if argv is None else argv)
    script = os.path.relpath(os.path.abspath(argv[0]), REPO)
    print(f"=== {title}")
    print(f"command : .venv/bin/python {shlex.join([script, *argv[1:]])}   (from the repository root)")
    print(f"date    : {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}")
    cores = os.cpu_count()
    print(f"machine : {platform.node()} {platform.machine()}, {cores} cores, Python {platform.python_version()}")
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    print(f"postgres: {version} at {PG_URL.split('@')[-1]}")
    sys.stdout.flush()


def machine_load() -> str:
    """The load averages over 1, 5 and 15 minutes: above the core count, other work shared the machine."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def database_url(name: str) -> str:
    return f"{PG_URL}/{name}"


def redis_url(db: int) -> str:
    return f"{REDIS_BASE}/{db}"


def recreate_database(name: str) -> str:
    """Drop and create a benchmark database; refuses any name that is not a benchmark's own."""
    if not name.startswith("closegap_bench_"):
        raise ValueError(f"refusing to recreate {name!r}: benchmark databases are named closegap_bench_*")
    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def size_parser(doc: str | None, *, small: int, large: int, counted: str | None = None) -> argparse.ArgumentParser:
    """The command line of a small-vs-large benchmark: its docstring as the help, then ``--small`` and ``--large``.

    ``counted`` names what the sizes count, for their help ("events already counted" gives "events already counted
    in the small DB"); the script adds its own options after these two.
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=small, help=counted and f"{counted} in the small DB")
    parser.add_argument("--large", type=int, default=large, help=counted and f"{counted} in the large DB")
    return parser


@contextlib.contextmanager
def generated_database(name: str, **settings: str) -> Iterator[tuple[psycopg.Connection, str]]:
    """A fresh benchmark database to fill in SQL: recreated, migrated, holding the rows every generator starts from.

    Those rows are demo.data's hubs (ids 1 to 5, in its order), one donor, and one received donation per hub (donation
    i at hub i). Yields an autocommit connection and ``migrate``'s note. The connection runs with
    ``synchronous_commit = off`` and ``maintenance_work_mem = 512MB`` (index builds in memory); ``settings`` changes
    or adds session settings by name.
    """
    from demo.data import HUBS

    recreate_database(name)
    note = migrate(django_env(db_name=name, redis_db=None))
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        for setting, value in {"synchronous_commit": "off", "maintenance_work_mem": "512MB", **settings}.items():
            conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
        with conn.transaction():
            # Every bench hub a refurbishing hub (the kind migration 0005 creates): every step, donations, projects.
            for code, hub_name, country, city in HUBS:
                conn.execute(
                    "INSERT INTO hubs_hub (code, name, country, city, active, kind_id) "
                    "SELECT %s, %s, %s, %s, true, id FROM hubs_hubkind WHERE code = 'refurbishing_hub'",
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
        yield conn, note


@contextlib.contextmanager
def bulk_load(conn: psycopg.Connection, *tables: str) -> Iterator[None]:
    """One transaction to fill tables in SQL, with foreign-key triggers off and the ``tables``' indexes built after.

    The rows a generator writes are consistent by construction, so nothing is lost by not checking each one against
    its foreign keys. The indexes on ``tables`` that no constraint stands behind are dropped first and built again
    after the commit, each once from all the rows: minutes where updating them row by row takes an hour at ten
    million events. Primary keys and unique constraints stay, and still check every row.
    """
    indexes = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid::regclass::text = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        (list(tables),),
    ).fetchall()
    for index, _definition in indexes:
        conn.execute(f"DROP INDEX {index}")
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        yield
    for _index, definition in indexes:
        conn.execute(definition)


SIGN_IN_SCRIPT = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from rest_framework.authtoken.models import Token
from hubs.factories import StaffFactory
from hubs.models import Hub, HubMembership
user = StaffFactory(username=USERNAME)
for hub in Hub.objects.all():
    HubMembership.objects.update_or_create(user=user, hub=hub, defaults={"role": ROLE})
session = import_module(settings.SESSION_ENGINE).SessionStore()
if SECOND_FACTOR:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "hubs.accounts.backends.EmailOrUsernameBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
token, _ = Token.objects.get_or_create(user=user)
print(session.session_key, token.key)
"""


def signed_in(env: dict[str, str], *, username: str, role: str, second_factor: bool = False) -> tuple[str, str]:
    """Create hub staff ``username`` with ``role`` at every hub; return a signed-in session key and an API token.

    The session is what a browser holds after signing in (with the second factor too when ``second_factor``, as the
    admin asks of staff), so requests carrying it pay for the same session and user look-ups as a person's.
    """
    options = f"USERNAME, ROLE, SECOND_FACTOR = {(username, role, second_factor)!r}\n"
    session, token = manage(env, "shell", "-c", options + SIGN_IN_SCRIPT).stdout.strip().splitlines()[-1].split()
    return session, token


def flush_redis(db: int) -> None:
    """Empty one Redis DB (the benchmark's own number) so no stale summary or queued task survives."""
    import redis

    redis.Redis.from_url(redis_url(db)).flushdb()


def django_env(*, db_name: str, redis_db: int | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a production-like process: production settings over plain HTTP on loopback.

    Production settings (DEBUG off, CONN_MAX_AGE=60, the security middleware on) are what a real server
    runs; only the HTTPS redirect is off, because the load generator talks plain HTTP to 127.0.0.1.
    """
    env = dict(os.environ)
    for key in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "IMPACT_LOCAL_CACHE_SECONDS"):
        env.pop(key, None)
    env.update(
        DJANGO_SETTINGS_MODULE="closegap.settings.production",
        DJANGO_SECRET_KEY=os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_DEBUG="false",
        DATABASE_URL=database_url(db_name),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if redis_db is not None:
        env["REDIS_URL"] = redis_url(redis_db)
    if extra:
        env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    """Run ``manage.py`` with the benchmark's environment; raise with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    if not quiet:
        print(result.stdout, end="")
    return result


def migrate(env: dict[str, str]) -> str:
    """``manage.py migrate`` on the benchmark's own database."""
    manage(env, "migrate", "--noinput")
    return "migrate: clean"


def has_command(env: dict[str, str], name: str) -> bool:
    listing = manage(env, "help", "--commands").stdout.split()
    return name in listing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Processes this benchmark started; ``stop_all`` ends each by its own process group, never by name."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, label: str, argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "wb")  # noqa: SIM115 (closed with the process group in stop_all)
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        proc._bench_log = log  # type: ignore[attr-defined]
        self.started.append((label, proc))
        return proc

    def start_piped(self, label: str, argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
        """A child that takes commands on stdin and answers one line each on stdout; its stderr goes to a log."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "wb")  # noqa: SIM115 (closed with the process group in stop_all)
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        proc._bench_log = log  # type: ignore[attr-defined]
        self.started.append((label, proc))
        return proc

    def stop_all(self) -> None:
        for _label, proc in reversed(self.started):
            _stop_group(proc)
        self.started.clear()


def _stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    else:
        # The leader exited; stragglers in its group (gunicorn or celery children) still get a TERM.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    log = getattr(proc, "_bench_log", None)
    if log is not None:
        log.close()


def start_gunicorn(
    procs: Processes, env: dict[str, str], *, workers: int = 2, worker_class: str = "sync", log_dir: Path
) -> str:
    """Start ``gunicorn closegap.wsgi`` on a free loopback port; return its base URL once /healthz/ answers."""
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "closegap.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--log-level",
        "warning",
    ]
    if worker_class == "gthread":
        argv += ["--threads", "4"]
    proc = procs.start("gunicorn", argv, env, log_dir / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_dir / 'gunicorn.log'}")
        try:
            if http_status(base + "/healthz/") == 200:
                return base
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz/ within 30 s; see {log_dir / 'gunicorn.log'}")


def start_celery_worker(
    procs: Processes, env: dict[str, str], *, log_dir: Path, concurrency: int = 2
) -> subprocess.Popen:
    """Start a real Celery worker (prefork, the default queue) with the benchmark's environment."""
    argv = [
        str(BIN / "celery"),
        "-A",
        "closegap",
        "worker",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "-Q",
        "celery",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
    ]
    return procs.start("celery", argv, env, log_dir / "celery.log")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 3xx itself is the answer
        return None


def http_status(url: str, timeout: float = 5.0, *, follow: bool = True) -> int:
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def results_dir() -> Path:
    path = REPO / "bench" / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least pct % of the samples at or below it."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def interleaved(rng: random.Random, count: int, measure: Callable[[str], float]) -> dict[str, list[float]]:
    """``count`` measurements each of "small" and "large", one of each at a time in a random order.

    A moment when the machine is busy then slows both sides alike instead of one, and neither always goes first.
    """
    times: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(count):
        for key in ("small", "large") if rng.random() < 0.5 else ("large", "small"):
            times[key].append(measure(key))
    return times


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def spread(values: Sequence[float]) -> str:
    """Max/min of a set of figures that should be alike: a wide spread means the machine was busy."""
    lo, hi = min(values), max(values)
    return f"{hi / lo:.2f}x" if lo > 0 else "n/a"
