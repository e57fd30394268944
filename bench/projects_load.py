"""Load test of the beneficiary side: 8 concurrent writers through the API for a minute, with races and
duplicates, against gunicorn, PostgreSQL, Redis and a real Celery worker that is killed once mid-run.

Three pairs of hub managers and one pair of coordinators write at once. Each hub pair, in rounds:
  - races: both allocate the same fitting device to their request at the same moment (one 200, one 409);
  - allocates one more device alone, puts the project's shipment together, then both ship it at the same
    moment (one 200, one 409), and tries to add a device to the shipped shipment (409).
The coordinator pair confirms each shipped shipment: both send the same confirmation (same idempotency key) at
the same moment (a duplicate: one 201, one 200); a third of them report a device missing (partial delivery),
confirmed later with a second confirmation; now and then a manager corrects a confirmation's people.

It ends by checking: no answer was a 5xx; no device is shipped in a shipment that cannot be delivered (every
shipped device sits in a shipment that is "shipped"), and every device still shipped is then confirmed through
the API, counting refusals; every race answered exactly one 200 (or 201) and one 409; and the impact counters
equal a recount from the events (``reconcile_impact --check``: 0 drift), after the worker folded the backlog.

    .venv/bin/python bench/projects_load.py [--seconds 60] [--devices 480]

Uses its own database (closegap_bench_projects) and Redis DB 9; stops every process it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    BIN,
    Processes,
    banner,
    django_env,
    flush_redis,
    migrate,
    recreate_database,
    results_dir,
    start_gunicorn,
)

DB_NAME = "closegap_bench_projects"
REDIS_DB = 9
PAIRS = 3  # hub manager pairs; plus one coordinator pair = 8 writers


class Api:
    """One writer's HTTP client: JSON in and out, every status recorded."""

    def __init__(self, base: str, token: str, stats: Counter, lock: threading.Lock):
        self.base, self.token, self.stats, self.lock = base, token, stats, lock

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | list | None]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        with self.lock:
            self.stats[status] += 1
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None


def worker_argv() -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "closegap",
        "worker",
        "--concurrency=1",
        "--pool=prefork",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--devices", type=int, default=480)
    args = parser.parse_args()
    banner("projects: 8 concurrent API writers, races and duplicates, worker killed once")
    env = django_env(db_name=DB_NAME, redis_db=REDIS_DB, extra={"API_AUTH_TOKEN_RATE": "100000/minute"})
    print(f"setup   : DB {DB_NAME} (fresh), Redis /{REDIS_DB} (flushed) as cache and broker, production settings")
    print("server  : gunicorn 2 x gthread (4 threads); celery worker --concurrency=1 (prefork), killed once (SIGKILL)")
    recreate_database(DB_NAME)
    flush_redis(REDIS_DB)
    print(f"migrate : {migrate(env)}")
    sys.stdout.flush()

    os.environ.update(env)
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from donations.models import Donation, Donor
    from hubs.factories import UserFactory
    from hubs.models import Hub, HubMembership
    from impact.services import impact_fold_suspended
    from projects.models import Shipment
    from projects.services import project_apply, project_review
    from refurbishing.factories import SANITISATION
    from refurbishing.models import Device, DeviceEvent
    from refurbishing.services import device_register_many, device_transition

    t0 = time.monotonic()
    hub = Hub.objects.create(code="KE-MBA", name="Close the Gap Mombasa", country="KE", city="Mombasa")
    managers = []
    for n in range(PAIRS * 2):
        user = UserFactory(username=f"manager-{n}", is_staff=True)
        HubMembership.objects.create(user=user, hub=hub, role=HubMembership.Role.MANAGER)
        managers.append(user)
    coordinators = [UserFactory(username=f"coordinator-{n}") for n in range(2)]
    donor = Donor.objects.create(legal_name="Bench NV", registration_number="BE0000000011", country="BE", address="x")
    donation = Donation.objects.create(reference="BENCH-PROJ", donor=donor, hub=hub, pickup_address="x")
    with impact_fold_suspended():
        devices = device_register_many(
            donation=donation,
            hub=hub,
            actor=None,
            rows=[
                {"category": "laptop", "manufacturer": "Dell", "serial_number": f"P{n:06d}", "ram_gb": 8}
                for n in range(args.devices)
            ],
        )
        for device in devices:
            device_transition(device=device, action="receive", actor=managers[0])
            device_transition(device=device, action="sanitise", actor=managers[0], record=SANITISATION)
            device_transition(device=device, action="inspect", actor=managers[0], record={"passed": True, "grade": "B"})
            device_transition(device=device, action="configure", actor=managers[0])
    requests = []
    for pair in range(PAIRS):
        project = project_apply(
            applicant=coordinators[0],
            organisation="Bench schools",
            name=f"Lab {pair}",
            kind="education",
            country="KE",
            place="Mombasa",
            hub=hub,
            expected_beneficiaries=1_000_000,
            requests=[{"category": "laptop", "quantity": 10_000}],
        )
        project.coordinators.add(coordinators[1])
        project_review(project=project, reviewer=managers[0], decision="approved")
        requests.append(project.requests.get().pk)
    tokens = {u.username: Token.objects.create(user=u).key for u in [*managers, *coordinators]}
    print(
        f"data    : {args.devices} configured laptops, {PAIRS} approved projects, "
        f"built in {time.monotonic() - t0:.0f} s"
    )
    sys.stdout.flush()

    log_dir = results_dir() / "logs"
    procs = Processes()
    stats: Counter = Counter()
    lock = threading.Lock()
    races: Counter = Counter()  # (kind, outcome) -> n
    bad_races: list[str] = []
    shipped_queue: list[int] = []
    pending_partials: list[tuple[int, int]] = []  # (shipment, device) reported missing, to confirm later
    confirmations: list[int] = []
    stop = threading.Event()
    errors: list[str] = []

    def record_race(kind: str, statuses: list[int], allowed: set[tuple[int, ...]]) -> None:
        outcome = tuple(sorted(statuses))
        with lock:
            races[(kind, outcome)] += 1
            if outcome not in allowed:
                bad_races.append(f"{kind}: {outcome}")

    def race(pair_barrier: threading.Barrier, fn):
        pair_barrier.wait()
        return fn()

    try:
        procs.start("celery", worker_argv(), env, log_dir / "projects-celery.log")
        base = start_gunicorn(procs, env, workers=2, worker_class="gthread", log_dir=log_dir)
        print(f"started : worker and gunicorn at {base}")
        sys.stdout.flush()

        def hub_pair(index: int, me: Api, other: Api, request_id: int, project_id: int):
            """Runs in the pair's leader thread; the partner's half of each race runs in the partner thread."""
            barrier = threading.Barrier(2, timeout=60)
            partner_job: list = [None]
            partner_result: list = [None]
            partner_go = threading.Event()
            partner_done = threading.Event()

            def partner():
                # Never leaves while its leader may be waiting at the barrier (a daemon: it ends with the run).
                while True:
                    partner_go.wait()
                    partner_go.clear()
                    job = partner_job[0]
                    partner_result[0] = race(barrier, job)
                    partner_done.set()

            threading.Thread(target=partner, daemon=True, name=f"partner-{index}").start()

            def both(fn_me, fn_other):
                partner_done.clear()
                partner_job[0] = fn_other
                partner_go.set()
                mine = race(barrier, fn_me)
                partner_done.wait(60)
                return mine, partner_result[0]

            while not stop.is_set():
                status, fitting = me.call("GET", f"/api/v1/requests/{request_id}/fitting/")
                if status != 200 or not fitting or len(fitting) < 2:
                    time.sleep(0.5)
                    if not fitting:
                        return
                    continue
                first, second = fitting[random.randrange(len(fitting))]["id"], None
                second = next(d["id"] for d in fitting if d["id"] != first)
                body = {"devices": [first]}
                a, b = both(
                    lambda body=body: me.call("POST", f"/api/v1/requests/{request_id}/allocate/", body)[0],
                    lambda body=body: other.call("POST", f"/api/v1/requests/{request_id}/allocate/", body)[0],
                )
                record_race("allocate the same device", [a, b], {(200, 409)})
                me.call("POST", f"/api/v1/requests/{request_id}/allocate/", {"devices": [second]})
                status, shipment = me.call("POST", "/api/v1/shipments/", {"project": project_id, "carrier": "G4S"})
                if status != 201:
                    continue
                sid = shipment["id"]
                a, b = both(
                    lambda sid=sid: me.call("POST", f"/api/v1/shipments/{sid}/ship/")[0],
                    lambda sid=sid: other.call("POST", f"/api/v1/shipments/{sid}/ship/")[0],
                )
                record_race("ship the same shipment", [a, b], {(200, 409)})
                # A late device for a shipped shipment: refused, it has closed.
                status, more = me.call("GET", f"/api/v1/requests/{request_id}/fitting/")
                if status == 200 and more:
                    me.call("POST", f"/api/v1/requests/{request_id}/allocate/", {"devices": [more[0]["id"]]})
                    late, _ = me.call("POST", f"/api/v1/shipments/{sid}/devices/", {"devices": [more[0]["id"]]})
                    record_race("add to a shipped shipment", [late], {(409,)})
                with lock:
                    shipped_queue.append(sid)

        def coordinator_pair(me: Api, other: Api, manager: Api):
            barrier = threading.Barrier(2, timeout=60)
            partner_job: list = [None]
            partner_result: list = [None]
            partner_go = threading.Event()
            partner_done = threading.Event()

            def partner():
                while True:
                    partner_go.wait()
                    partner_go.clear()
                    partner_result[0] = race(barrier, partner_job[0])
                    partner_done.set()

            threading.Thread(target=partner, daemon=True, name="coordinator-partner").start()
            while not stop.is_set():
                with lock:
                    sid = shipped_queue.pop(0) if shipped_queue else None
                    partial = pending_partials.pop(0) if (sid is None and pending_partials) else None
                if sid is None and partial is None:
                    time.sleep(0.2)
                    continue
                if partial is not None:
                    psid, device = partial
                    body = {
                        "shipment": psid,
                        "idempotency_key": uuid.uuid4().hex,
                        "delivered_on": time.strftime("%Y-%m-%d"),
                        "people_served": 3,
                        "arrived": [device],
                    }
                    me.call("POST", "/api/v1/deliveries/", body)
                    continue
                status, shipment = me.call("GET", f"/api/v1/shipments/{sid}/")
                ids = [d["id"] for d in shipment["devices"] if d["state"] == "shipped"]
                missing = [ids.pop()] if len(ids) > 1 and random.random() < 0.33 else []
                body = {
                    "shipment": sid,
                    "idempotency_key": uuid.uuid4().hex,
                    "delivered_on": time.strftime("%Y-%m-%d"),
                    "people_served": 5 * len(ids),
                    "arrived": ids,
                    "missing": missing,
                }
                partner_done.clear()
                partner_job[0] = lambda body=body: other.call("POST", "/api/v1/deliveries/", body)
                partner_go.set()
                a = race(barrier, lambda body=body: me.call("POST", "/api/v1/deliveries/", body))
                partner_done.wait(60)
                b = partner_result[0]
                record_race("the same confirmation twice", [a[0], b[0]], {(200, 201)})
                created = a[1] if a[0] == 201 else b[1]
                if missing:
                    with lock:
                        pending_partials.append((sid, missing[0]))
                if created and random.random() < 0.3:
                    status, _ = manager.call(
                        "POST",
                        f"/api/v1/deliveries/{created['id']}/corrections/",
                        {"people_served": max(1, 5 * len(ids) - 2), "reason": "Counted twice"},
                    )
                    with lock:
                        confirmations.append(status)

        apis = {name: Api(base, token, stats, lock) for name, token in tokens.items()}
        from projects.models import DeviceRequest

        project_of = dict(DeviceRequest.objects.filter(pk__in=requests).values_list("pk", "project_id"))
        threads = []
        for pair in range(PAIRS):
            me, other = apis[f"manager-{2 * pair}"], apis[f"manager-{2 * pair + 1}"]
            rid = requests[pair]
            threads.append(
                threading.Thread(target=hub_pair, args=(pair, me, other, rid, project_of[rid]), name=f"hub-{pair}")
            )
        threads.append(
            threading.Thread(
                target=coordinator_pair,
                args=(apis["coordinator-0"], apis["coordinator-1"], apis["manager-0"]),
                name="coordinators",
            )
        )

        def guarded(thread_target):
            def run(*a):
                try:
                    thread_target(*a)
                except Exception as exc:  # noqa: BLE001 (reported at the end)
                    errors.append(f"{threading.current_thread().name}: {exc!r}")

            return run

        for thread in threads:
            thread._target = guarded(thread._target)  # type: ignore[attr-defined]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        killed_at = None
        while time.monotonic() - started < args.seconds:
            time.sleep(0.5)
            if killed_at is None and time.monotonic() - started > args.seconds / 2:
                celery = next(p for label, p in procs.started if label == "celery")
                os.killpg(celery.pid, signal.SIGKILL)
                celery.wait(10)
                killed_at = time.monotonic() - started
                procs.start("celery", worker_argv(), env, log_dir / "projects-celery-2.log")
        stop.set()
        for thread in threads:
            thread.join(90)
        elapsed = time.monotonic() - started
        print(f"load    : {elapsed:.0f} s, 8 writers; worker SIGKILLed at {killed_at:.0f} s and restarted")

        # Whatever is still shipped gets confirmed now, through the API: a refusal would be an undeliverable device.
        stranded = list(
            Device.objects.filter(state="shipped").exclude(allocation__shipment__status=Shipment.Status.SHIPPED)
        )
        attempts = refused = 0
        for shipment in Shipment.objects.filter(status=Shipment.Status.SHIPPED):
            ids = list(shipment.devices.filter(state="shipped").values_list("id", flat=True))
            attempts += 1
            status, _ = apis["coordinator-0"].call(
                "POST",
                "/api/v1/deliveries/",
                {
                    "shipment": shipment.pk,
                    "idempotency_key": uuid.uuid4().hex,
                    "delivered_on": time.strftime("%Y-%m-%d"),
                    "people_served": 2,
                    "arrived": ids,
                },
            )
            refused += status != 201
        still_shipped = Device.objects.filter(state="shipped").count()

        # The killed worker's fold is redelivered (acks late) or the next transition queues one: wait for it.
        wait_started = time.monotonic()
        while DeviceEvent.objects.filter(impact_counted=False).exists() and time.monotonic() - wait_started < 90:
            time.sleep(0.5)
        backlog = DeviceEvent.objects.filter(impact_counted=False).count()
        check = subprocess.run(
            [sys.executable, "manage.py", "reconcile_impact", "--check"],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        drift_lines = [line for line in check.stdout.splitlines() if line.startswith("DRIFT")]
    finally:
        stop.set()
        procs.stop_all()

    server_errors = sum(n for status, n in stats.items() if status >= 500)
    total = sum(stats.values())
    print(f"requests: {total} in all, {total / elapsed:.1f}/s; by status: {dict(sorted(stats.items()))}")
    for (kind, outcome), n in sorted(races.items()):
        print(f"race    : {kind:<30} answered {outcome}: {n}")
    print(f"corrections: {Counter(confirmations)}")
    print(
        f"after   : {attempts} shipments still shipped confirmed through the API, {refused} refused; "
        f"{len(stranded)} shipped devices outside a shipped shipment; {still_shipped} devices still shipped"
    )
    print(f"worker  : uncounted events after the wait: {backlog} (waited {time.monotonic() - wait_started:.1f} s)")
    print(f"drift   : {len(drift_lines)} drifted counters (reconcile_impact --check exit {check.returncode})")
    print(f"errors  : {errors or 'none'}")
    ok = (
        server_errors == 0
        and not bad_races
        and not stranded
        and refused == 0
        and still_shipped == 0
        and not drift_lines
        and check.returncode == 0
        and not errors
    )
    if bad_races:
        print("unexpected race answers:", bad_races[:10])
    print(
        f"verdict : {'PASS' if ok else 'FAIL'}: 5xx {server_errors}, races not 200/409 {len(bad_races)}, "
        f"undeliverable {len(stranded) + refused}, drift {len(drift_lines)}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
