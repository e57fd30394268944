"""Demo data: five hubs, their staff, donors, a few hundred devices in every state, projects and impact.

Everything moves through the real services, so every device has its full chain of custody and the public
counters are folded from real events. Runs in a few seconds on SQLite; running it again changes nothing.
"""

import random
import string
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from donations.models import Donor
from donations.services import donation_pledge, donor_sign_up
from hubs.models import Hub, HubMembership
from impact.models import Metric, OpeningBalance
from impact.receivers import FOLD_RECEIVER_UID, queue_fold_after_transition
from impact.selectors import impact_summary_refresh
from impact.services import impact_fold_events
from projects.models import Project
from projects.services import project_allocate_device, shipment_deliver, shipment_ship
from refurbishing.models import Device, DeviceState
from refurbishing.services import device_transition
from refurbishing.signals import device_transitioned

S = DeviceState
SEED = 20_240_607
DEMO_DONOR_REGISTRATION = "BE0999000111"  # marks the demo data as present

HUBS = [
    # code, name, country, city
    ("BE-BRU", "Close the Gap Brussels", "BE", "Brussels"),
    ("KE-MBA", "Close the Gap Mombasa", "KE", "Mombasa"),
    ("KE-NBO", "Close the Gap Nairobi", "KE", "Nairobi"),
    ("ZA-JNB", "Close the Gap Johannesburg", "ZA", "Johannesburg"),
    ("CD-FIH", "Close the Gap Kinshasa", "CD", "Kinshasa"),
]

# The published historic totals from before the platform, spread over the hubs. The per-hub figures are
# illustrative; the sums are the published ones and must stay exact.
OPENING_DEVICES_RECEIVED = {
    "BE-BRU": 1_012_340,
    "KE-MBA": 241_575,
    "KE-NBO": 198_763,
    "ZA-JNB": 142_318,
    "CD-FIH": 78_492,
}
OPENING_BENEFICIARIES = {
    "BE-BRU": 2_104_377,
    "KE-MBA": 1_336_820,
    "KE-NBO": 1_208_455,
    "ZA-JNB": 905_612,
    "CD-FIH": 612_851,
}
PUBLISHED_DEVICES_RECEIVED = 1_673_488
PUBLISHED_BENEFICIARIES = 6_168_115

# Per hub: how many demo devices end in each state (60 per hub, 300 in all; every hub has every state).
STATE_PLAN = {
    S.PLEDGED: 5,
    S.MISSING: 2,
    S.RECEIVED: 4,
    S.SANITISED: 4,
    S.INSPECTED: 4,
    S.CONFIGURED: 5,
    S.ALLOCATED: 4,
    S.SHIPPED: 6,
    S.DELIVERED: 18,
    S.TO_RECYCLE: 3,
    S.RECYCLED: 5,
}
DONATIONS_PER_HUB = 3

# category: (has storage media, [(manufacturer, model, weight kg)])
CATALOGUE = {
    Device.Category.LAPTOP: (
        True,
        [
            ("Dell", "Latitude 5490", "1.80"),
            ("Dell", "Latitude 7400", "1.40"),
            ("HP", "EliteBook 840 G5", "1.50"),
            ("Lenovo", "ThinkPad T480", "1.60"),
            ("Lenovo", "ThinkPad X280", "1.30"),
        ],
    ),
    Device.Category.DESKTOP: (
        True,
        [("HP", "EliteDesk 800 G4", "5.10"), ("Dell", "OptiPlex 7060", "5.40"), ("Lenovo", "ThinkCentre M920", "4.90")],
    ),
    Device.Category.TABLET: (True, [("Apple", "iPad (7th generation)", "0.48"), ("Samsung", "Galaxy Tab A", "0.47")]),
    Device.Category.SMARTPHONE: (True, [("Samsung", "Galaxy A52", "0.19"), ("Apple", "iPhone 8", "0.15")]),
    Device.Category.SERVER: (True, [("Dell", "PowerEdge R640", "18.00")]),
    Device.Category.MONITOR: (
        False,
        [("Dell", "P2419H", "3.30"), ("HP", "E24 G4", "3.20"), ("Philips", "243V7", "3.00")],
    ),
    Device.Category.NETWORKING: (False, [("Cisco", "Catalyst 2960", "3.60"), ("Ubiquiti", "UniFi AP AC Lite", "0.20")]),
    Device.Category.PRINTER: (False, [("HP", "LaserJet Pro M404", "8.60")]),
}
# Laptops and desktops dominate real donations.
CATEGORY_WEIGHTS = {
    Device.Category.LAPTOP: 45,
    Device.Category.DESKTOP: 20,
    Device.Category.MONITOR: 15,
    Device.Category.TABLET: 6,
    Device.Category.SMARTPHONE: 5,
    Device.Category.NETWORKING: 4,
    Device.Category.PRINTER: 3,
    Device.Category.SERVER: 2,
}

DONORS = [
    # legal name, registration number, country, address, username (None: a contact without a login yet)
    ("Demo Donor NV", DEMO_DONOR_REGISTRATION, "BE", "Rue de la Loi 16, 1000 Brussels", "donor-demo"),
    ("Northsea Logistics NV", "BE0999000222", "BE", "Havenlaan 86, 1000 Brussels", None),
    ("Lakeside Bank Ltd", "KE-P051234567X", "KE", "Kenyatta Avenue 12, Nairobi", None),
    ("Coastal Telecom Ltd", "KE-P051765432Y", "KE", "Moi Avenue 7, Mombasa", None),
    ("Highveld Insurance (Pty) Ltd", "ZA2009123456", "ZA", "Main Street 44, Johannesburg", None),
    ("Fleuve Énergie SARL", "CD-KIN-RCCM-18-B-01234", "CD", "Boulevard du 30 Juin 90, Kinshasa", None),
]
# Which donors give to which hub (the demo donor gives to two, so its portal shows plenty).
DONORS_BY_HUB = {
    "BE-BRU": ["Demo Donor NV", "Northsea Logistics NV", "Demo Donor NV"],
    "KE-MBA": ["Coastal Telecom Ltd", "Lakeside Bank Ltd", "Coastal Telecom Ltd"],
    "KE-NBO": ["Lakeside Bank Ltd", "Demo Donor NV", "Lakeside Bank Ltd"],
    "ZA-JNB": ["Highveld Insurance (Pty) Ltd", "Northsea Logistics NV", "Highveld Insurance (Pty) Ltd"],
    "CD-FIH": ["Fleuve Énergie SARL", "Northsea Logistics NV", "Fleuve Énergie SARL"],
}

PROJECTS = {
    # hub: [(organisation, project name, kind, expected beneficiaries)]; the first is coordinator-demo's.
    "BE-BRU": [
        ("Lycée Technique de Bukavu", "Computer lab for technical studies", Project.Kind.EDUCATION, 900),
        ("Centre de Santé Ngaliema", "Digital patient records", Project.Kind.MEDICAL, 4000),
    ],
    "KE-MBA": [
        ("Coast General Teaching Hospital", "Telemedicine corner", Project.Kind.MEDICAL, 6000),
        ("Likoni Women Entrepreneurs", "Bookkeeping for small businesses", Project.Kind.ENTREPRENEURSHIP, 350),
    ],
    "KE-NBO": [
        ("Kibera Youth Centre", "Coding club", Project.Kind.SOCIAL, 500),
        ("Nairobi Primary School", "Digital classroom", Project.Kind.EDUCATION, 1200),
    ],
    "ZA-JNB": [
        ("Soweto Makers Hub", "Start-up incubator", Project.Kind.ENTREPRENEURSHIP, 400),
        ("Alexandra Community Library", "Public internet corner", Project.Kind.SOCIAL, 2500),
    ],
    "CD-FIH": [
        ("Institut Technique de Kinshasa", "E-learning for teachers", Project.Kind.EDUCATION, 1500),
        ("Hôpital de Kintambo", "Laboratory information system", Project.Kind.MEDICAL, 8000),
    ],
}

SANITISATION = {
    "method": "purge",
    "technique": "NVMe Format / ATA Secure Erase with verification",
    "tool": "Blancco Drive Eraser",
    "tool_version": "7.9",
    "verification": "full",
    "verified": True,
}
# Steps from pledged to each target state; "sanitise" is skipped for devices without storage media.
PATHS = {
    S.PLEDGED: [],
    S.MISSING: ["mark_missing"],
    S.RECEIVED: ["receive"],
    S.SANITISED: ["receive", "sanitise"],
    S.INSPECTED: ["receive", "sanitise", "inspect"],
    S.CONFIGURED: ["receive", "sanitise", "inspect", "configure"],
    S.ALLOCATED: ["receive", "sanitise", "inspect", "configure"],
    S.SHIPPED: ["receive", "sanitise", "inspect", "configure"],
    S.DELIVERED: ["receive", "sanitise", "inspect", "configure"],
    S.TO_RECYCLE: ["receive", "sanitise", "inspect_fail"],
    S.RECYCLED: ["receive", "sanitise", "inspect_fail", "recycle"],
}


def _opening_balances(code: str) -> dict[str, Decimal]:
    """Plausible historic figures derived from the devices received, for the metrics without a published sum."""
    received = OPENING_DEVICES_RECEIVED[code]
    refurbished = received * 72 // 100
    return {
        Metric.DEVICES_RECEIVED: Decimal(received),
        Metric.DEVICES_REFURBISHED: Decimal(refurbished),
        Metric.DEVICES_DELIVERED: Decimal(refurbished * 96 // 100),
        Metric.BENEFICIARIES_REACHED: Decimal(OPENING_BENEFICIARIES[code]),
        Metric.DEVICES_RECYCLED: Decimal(received - refurbished),
        # About 4.5 kg a device sent to e-waste recycling (a mix of laptops, desktops and screens).
        Metric.EWASTE_RECYCLED_KG: (Decimal(received - refurbished) * Decimal("4.5")).quantize(Decimal("1")),
    }


@contextmanager
def _one_fold_at_the_end() -> Iterator[None]:
    """Silence the per-transition fold while seeding; the command folds everything once itself.

    Each of the ~1,500 transitions would otherwise queue a fold task after commit (in-process when Celery is
    eager, onto the broker otherwise), every one but the first finding nothing left to count.
    """
    device_transitioned.disconnect(dispatch_uid=FOLD_RECEIVER_UID)
    try:
        yield
    finally:
        device_transitioned.connect(queue_fold_after_transition, dispatch_uid=FOLD_RECEIVER_UID)


class Command(BaseCommand):
    help = "Load demo data (hubs, users, donors, devices in every state, projects, impact). Refuses without DEBUG."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load demo data even though DEBUG is False (never on a production database).",
        )

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo data: DEBUG is False, so this may be a production database. "
                "Run with --force if you are sure (demo accounts have password = username)."
            )
        if Donor.objects.filter(registration_number=DEMO_DONOR_REGISTRATION).exists():
            self.stdout.write("Demo data is already there; nothing changed.")
            self._print_accounts()
            return

        self.rng = random.Random(SEED)
        self.serials: set[str] = set()
        with _one_fold_at_the_end(), transaction.atomic():
            hubs = self._hubs()
            users = self._users(hubs)
            donors = self._donors()
            projects = self._projects(hubs, users["coordinator-demo"])
            for index, hub in enumerate(hubs.values()):
                self._devices_for_hub(
                    hub=hub,
                    staff=users[f"staff-{hub.code.lower()}"],
                    donors=donors,
                    projects=projects[hub.code],
                    day_offset=index,
                )
            self._opening_balances(hubs)
            folded = impact_fold_events()
        # The fold refreshes the cached totals after commit; refresh here too, so the summary is current
        # also when the command runs inside an outer transaction (tests), where on_commit waits.
        summary = impact_summary_refresh().data
        self._print_summary(folded=folded, summary=summary)
        self._print_accounts()

    # --- places and people -------------------------------------------------------------------------------

    def _hubs(self) -> dict[str, Hub]:
        hubs = {}
        for code, name, country, city in HUBS:
            hub, _ = Hub.objects.get_or_create(code=code, defaults={"name": name, "country": country, "city": city})
            hubs[code] = hub
        return hubs

    def _user(self, username: str, **flags: bool):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@closegap.example", **flags}
        )
        if created:
            user.set_password(username)
            user.save(update_fields=["password"])
        else:
            # Never overwrite the password of an account someone already uses.
            self.stdout.write(self.style.WARNING(f"User {username} existed already; its password is unchanged."))
        return user

    def _users(self, hubs: dict[str, Hub]) -> dict[str, Any]:
        users = {"admin": self._user("admin", is_staff=True, is_superuser=True)}
        for code, hub in hubs.items():
            username = f"staff-{code.lower()}"
            users[username] = self._user(username, is_staff=True)
            HubMembership.objects.get_or_create(
                user=users[username], hub=hub, defaults={"role": HubMembership.Role.TECHNICIAN}
            )
        users["coordinator-demo"] = self._user("coordinator-demo")
        return users

    def _donors(self) -> dict[str, Donor]:
        donors = {}
        for legal_name, registration, country, address, username in DONORS:
            # Only the demo donor's user can log in; the other organisations' contacts get an unusable password
            # (they would reset it), which also keeps the command fast.
            donor, _user = donor_sign_up(
                legal_name=legal_name,
                registration_number=registration,
                country=country,
                address=address,
                username=username or f"contact-{registration.lower()}",
                email=f"{username or 'csr'}@{legal_name.split()[0].lower()}.example",
                password=username,
            )
            donors[legal_name] = donor
        return donors

    def _projects(self, hubs: dict[str, Hub], coordinator) -> dict[str, list[Project]]:
        projects: dict[str, list[Project]] = {}
        for code, rows in PROJECTS.items():
            hub = hubs[code]
            projects[code] = []
            for index, (organisation, name, kind, expected) in enumerate(rows):
                project = Project.objects.create(
                    organisation=organisation,
                    name=name,
                    kind=kind,
                    country=hub.country if code != "BE-BRU" else "CD",
                    hub=hub,
                    expected_beneficiaries=expected,
                    public=True,
                )
                if index == 0:
                    project.coordinators.add(coordinator)
                projects[code].append(project)
        return projects

    # --- devices -----------------------------------------------------------------------------------------

    def _serial(self, manufacturer: str) -> str:
        while True:
            body = "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=7))
            serial = f"{manufacturer[:2].upper()}{body}"
            if serial not in self.serials:
                self.serials.add(serial)
                return serial

    def _row(self, target: str, number: int) -> dict[str, Any]:
        categories = list(CATEGORY_WEIGHTS)
        category = self.rng.choices(categories, weights=[CATEGORY_WEIGHTS[c] for c in categories])[0]
        if target == S.SANITISED and not CATALOGUE[category][0]:
            category = Device.Category.LAPTOP  # only storage media can be wiped
        has_storage, models = CATALOGUE[category]
        manufacturer, model, weight = self.rng.choice(models)
        return {
            "category": category,
            "manufacturer": manufacturer,
            "model": model,
            "serial_number": self._serial(manufacturer),
            "asset_tag": f"IT-{number:05d}",
            "has_storage_media": has_storage,
            "weight_kg": Decimal(weight),
        }

    def _devices_for_hub(self, *, hub: Hub, staff, donors: dict[str, Donor], projects: list[Project], day_offset):
        targets = [state for state, count in STATE_PLAN.items() for _ in range(count)]
        self.rng.shuffle(targets)
        per_donation = len(targets) // DONATIONS_PER_HUB
        devices_by_target: dict[str, list[Device]] = defaultdict(list)
        for index, donor_name in enumerate(DONORS_BY_HUB[hub.code]):
            donor = donors[donor_name]
            chunk = targets[index * per_donation : (index + 1) * per_donation]
            if index == DONATIONS_PER_HUB - 1:
                chunk = targets[index * per_donation :]
            donation = donation_pledge(
                donor=donor,
                hub=hub,
                pickup_address=donor.address,
                pickup_date=timezone.localdate() + timedelta(days=7 * index + day_offset + 3),
                notes="Demo donation.",
                rows=[self._row(target, self.rng.randrange(1, 99_999)) for target in chunk],
                actor=donor.users.first(),
            )
            devices = list(donation.devices.order_by("id"))
            for target, device in zip(chunk, devices, strict=True):
                devices_by_target[target].append(device)

        for target, devices in devices_by_target.items():
            for device in devices:
                self._walk(device, PATHS[target], staff)

        # Allocated, shipped and delivered devices go to the hub's projects in shipments: per project, one
        # delivered shipment, one shipped (waiting for the coordinator to confirm) and one being prepared.
        for stage in (S.DELIVERED, S.SHIPPED, S.ALLOCATED):
            devices = devices_by_target.get(stage, [])
            for index, project in enumerate(projects):
                batch = devices[index :: len(projects)]
                if not batch:
                    continue
                for device in batch:
                    project_allocate_device(device=device, project=project, actor=staff, note="Demo allocation.")
                if stage == S.ALLOCATED:
                    continue
                shipment = project.shipments.get(status="preparing")
                shipment = shipment_ship(shipment=shipment, actor=staff, note="Demo shipment.")
                if stage == S.DELIVERED:
                    per_device = self.rng.randint(15, 60)
                    # The same path as the coordinator portal: a system move on the coordinator's behalf.
                    shipment_deliver(
                        shipment=shipment,
                        actor=None,
                        beneficiaries=per_device * len(batch),
                        note="Delivery confirmed by coordinator-demo (project coordinator)",
                    )

    def _walk(self, device: Device, steps: list[str], staff) -> None:
        for step in steps:
            if step == "sanitise" and not device.has_storage_media:
                continue
            if step == "inspect":
                grade = self.rng.choice(["A", "B", "B", "C"])
                device_transition(device=device, action="inspect", actor=staff, record={"passed": True, "grade": grade})
            elif step == "inspect_fail":
                device_transition(
                    device=device,
                    action="inspect",
                    actor=staff,
                    record={"passed": False, "notes": "Mainboard fault; not economical to repair."},
                )
            elif step == "sanitise":
                device_transition(device=device, action="sanitise", actor=staff, record=dict(SANITISATION))
            elif step == "recycle":
                device_transition(device=device, action="recycle", actor=staff, data={"weight_kg": device.weight_kg})
            elif step == "mark_missing":
                device_transition(device=device, action=step, actor=staff, note="Not in the pickup; donor informed.")
            else:
                device_transition(device=device, action=step, actor=staff)

    # --- impact ------------------------------------------------------------------------------------------

    def _opening_balances(self, hubs: dict[str, Hub]) -> None:
        OpeningBalance.objects.bulk_create(
            [
                OpeningBalance(hub=hubs[code], metric=metric, value=value, note="Historic total before the platform")
                for code in OPENING_DEVICES_RECEIVED
                for metric, value in _opening_balances(code).items()
            ]
        )

    # --- output ------------------------------------------------------------------------------------------

    def _print_summary(self, *, folded: int, summary: dict[str, Any]) -> None:
        states = Counter(Device.objects.values_list("state", flat=True))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  hubs: {Hub.objects.count()}, projects: {Project.objects.count()}")
        self.stdout.write(f"  devices: {sum(states.values())}, events folded into impact: {folded}")
        for value, label in S.choices:
            self.stdout.write(f"    {label:<12} {states.get(value, 0):>4}")
        self.stdout.write(
            f"  public totals: {summary['devices_received']:,} devices received, "
            f"{summary['beneficiaries_reached']:,} people reached (including the historic opening balances)"
        )

    def _print_accounts(self) -> None:
        self.stdout.write("Demo accounts (password = username):")
        self.stdout.write("  admin              superuser, Django admin at /admin/")
        for code, *_ in HUBS:
            self.stdout.write(f"  staff-{code.lower():<12} technician at {code}")
        self.stdout.write("  donor-demo         Demo Donor NV: donor portal at /donors/")
        self.stdout.write("  coordinator-demo   coordinator of one project per hub: /projects/")
