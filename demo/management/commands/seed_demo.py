"""Demo data: five hubs, their staff, donors, a few hundred devices in every state, projects and impact.

Every object is made by the services of the app that owns it, so every device has its full chain of custody
and the public counters are folded from real events. The content is declared in ``demo.data``. Runs in a
few seconds on SQLite; running it again changes nothing.
"""

import contextlib
import random
import string
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from demo import data
from demo.data import Step
from demo.e_resource import seed_e_resource
from demo.hub_work import seed_hub_work
from demo.yearly_report import seed_yearly_report
from donations.models import Donation, Donor
from donations.services import (
    CertificatePending,
    donation_certificate_issue,
    donation_pledge,
    donation_recycling_certificate_issue,
    donor_sign_up,
)
from hubs.accounts import account_email_mark_verified
from hubs.models import PARTNER_STEPS, Hub, HubKind, HubMembership
from hubs.services import hub_create, hub_membership_add, partner_create
from impact.models import Metric
from impact.selectors import impact_summary_refresh
from impact.services import impact_fold_suspended, opening_balance_set
from projects.models import Project
from projects.services import (
    project_allocate_device,
    project_apply,
    project_coordinator_add,
    project_create,
    project_requests_add,
    shipment_create,
    shipment_deliver,
    shipment_ship,
)
from refurbishing.actions import device_perform_action
from refurbishing.hardware.sampling import wipe_sample_current, wipe_sample_item_verify
from refurbishing.models import Device, DeviceState, WipeSample, WipeSampleItem
from refurbishing.services import moves_dated
from refurbishing.transfers.services import transfer_check_in_close, transfer_check_in_scan, transfer_send
from refurbishing.work_orders.services import work_order_create

# Allocated, shipped and delivered devices go to their hub's projects in shipments: per project, one delivered
# shipment, one shipped (waiting for the coordinator to confirm) and one being prepared.
SHIPMENT_STAGES = (DeviceState.DELIVERED, DeviceState.SHIPPED, DeviceState.ALLOCATED)


def opening_balances(code: str) -> dict[str, Decimal]:
    """A hub's historic figures: the published ones, and plausible ones derived from them for the other metrics."""
    received = data.OPENING_DEVICES_RECEIVED[code]
    refurbished = received * 72 // 100
    return {
        Metric.DEVICES_RECEIVED: Decimal(received),
        Metric.DEVICES_REFURBISHED: Decimal(refurbished),
        Metric.DEVICES_DELIVERED: Decimal(refurbished * 96 // 100),
        Metric.BENEFICIARIES_REACHED: Decimal(data.OPENING_BENEFICIARIES[code]),
        Metric.DEVICES_RECYCLED: Decimal(received - refurbished),
        # About 4.5 kg a device sent to e-waste recycling (a mix of laptops, desktops and screens).
        Metric.EWASTE_RECYCLED_KG: (Decimal(received - refurbished) * Decimal("4.5")).quantize(Decimal("1")),
    }


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
        if Donor.objects.filter(registration_number=data.DEMO_DONOR_REGISTRATION).exists():
            self.stdout.write("Demo data is already there; nothing changed.")
            self._print_accounts()
            return

        self.rng = random.Random(data.SEED)
        self.serials: set[str] = set()
        # Two years of work, not one afternoon: each device's moves are dated along its own clock (device id ->
        # the moment of its next move), so the 24-month chart and the hub's weekly figures show a trend.
        self.now = timezone.now()
        self.clock: dict[int, datetime] = {}
        # One fold for the ~1,500 transitions, when the block ends, instead of one queued after each commit.
        with impact_fold_suspended() as fold, transaction.atomic():
            hubs = self._hubs()
            users = self._users(hubs)
            donors = self._donors()
            projects = self._projects(hubs, users[data.COORDINATOR])
            for index, hub in enumerate(hubs.values()):
                if hub.kind.takes_company_donations:
                    self._devices_for_hub(
                        hub=hub,
                        staff=users[self._staff_username(hub.code)],
                        donors=donors,
                        projects=projects[hub.code],
                        day_offset=index,
                    )
                else:
                    self._devices_supplied_to(
                        hub=hub,
                        supplier=hubs[data.SUPPLIED_BY[hub.code]],
                        users=users,
                        donors=donors,
                        projects=projects[hub.code],
                        day_offset=index,
                    )
            seed_hub_work(hubs=hubs, users=users)
            seed_e_resource(hubs=hubs, users=users)
            self._partner_work(hubs=hubs, users=users)
            for code, hub in hubs.items():
                for metric, value in opening_balances(code).items():
                    opening_balance_set(hub=hub, metric=metric, value=value, note="Historic total before the platform")
            seed_yearly_report()
        # The fold refreshes the cached totals after commit; refresh here too, so the summary is current
        # also when the command runs inside an outer transaction (tests), where on_commit waits.
        summary = impact_summary_refresh().data
        self._print_summary(folded=fold.folded, summary=summary)
        self._print_accounts()

    # --- places and people -------------------------------------------------------------------------------

    @staticmethod
    def _staff_username(code: str) -> str:
        return f"staff-{code.lower()}"

    def _hubs(self) -> dict[str, Hub]:
        # A hub someone opened by hand before loading the demo is kept as it is, its kind too.
        existing = {
            hub.code: hub
            for hub in Hub.objects.filter(code__in=[code for code, *_ in data.HUBS]).select_related("kind")
        }
        kinds = {kind.code: kind for kind in HubKind.objects.filter(code__in=data.HUB_KINDS.values())}
        return {
            code: existing.get(code)
            or hub_create(code=code, name=name, country=country, city=city, kind=kinds[data.HUB_KINDS[code]])
            for code, name, country, city in data.HUBS
        }

    def _user(self, username: str, *, superuser: bool = False, staff: bool = False) -> AbstractBaseUser:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None:
            # Never overwrite the password of an account someone already uses.
            self.stdout.write(self.style.WARNING(f"User {username} existed already; its password is unchanged."))
            return user
        email = f"{username}@closegap.example"
        if superuser:
            return User.objects.create_superuser(username=username, email=email, password=username)
        return User.objects.create_user(username=username, email=email, password=username, is_staff=staff)

    def _users(self, hubs: dict[str, Hub]) -> dict[str, Any]:
        users = {"admin": self._user("admin", superuser=True)}
        for code, hub in hubs.items():
            username = self._staff_username(code)
            users[username] = self._user(username, staff=True)
            hub_membership_add(hub=hub, user=users[username], role=HubMembership.Role.TECHNICIAN)
            # The hub's manager reviews project applications, allocates beyond a request and corrects deliveries.
            manager = f"manager-{code.lower()}"
            users[manager] = self._user(manager, staff=True)
            hub_membership_add(hub=hub, user=users[manager], role=HubMembership.Role.MANAGER)
        users[data.COORDINATOR] = self._user(data.COORDINATOR)
        # The demo coordinator confirmed their address long ago: they may apply at once.
        account_email_mark_verified(user=users[data.COORDINATOR])
        return users

    def _donors(self) -> dict[str, Donor]:
        donors = {}
        for legal_name, registration, country, address, username in data.DONORS:
            # Only the demo donor's user can log in; the other organisations' contacts get an unusable password
            # (they would reset it), which also keeps the command fast.
            contact_name, contact_phone = data.DONOR_CONTACTS[legal_name]
            donor, user = donor_sign_up(
                legal_name=legal_name,
                registration_number=registration,
                country=country,
                address=address,
                contact_name=contact_name,
                contact_phone=contact_phone,
                username=username or f"contact-{registration.lower()}",
                email=f"{username or 'csr'}@{legal_name.split()[0].lower()}.example",
                password=username,
            )
            # Demo donors confirmed their address long ago: they may pledge at once.
            account_email_mark_verified(user=user)
            donors[legal_name] = donor
        return donors

    def _projects(self, hubs: dict[str, Hub], coordinator: AbstractBaseUser) -> dict[str, list[Project]]:
        projects: dict[str, list[Project]] = {code: [] for code in hubs}
        for code, rows in data.PROJECTS.items():
            if not hubs[code].kind.sends_to_projects:
                continue
            for index, (organisation, name, kind, country, expected) in enumerate(rows):
                project = project_create(
                    organisation=organisation,
                    name=name,
                    kind=kind,
                    country=country,
                    hub=hubs[code],
                    expected_beneficiaries=expected,
                    public=True,
                )
                if index == 0:
                    project_coordinator_add(project=project, user=coordinator)
                project_requests_add(project=project, requests=data.PROJECT_REQUESTS)
                projects[code].append(project)
        # An application waiting for its hub manager's review (demo.data.APPLICATION_HUB).
        project_apply(applicant=coordinator, **data.APPLICATION, hub=hubs[data.APPLICATION_HUB])
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
        categories = list(data.CATEGORY_WEIGHTS)
        category = self.rng.choices(categories, weights=[data.CATEGORY_WEIGHTS[c] for c in categories])[0]
        if target == DeviceState.SANITISED and not data.CATALOGUE[category][0]:
            category = Device.Category.LAPTOP  # only storage media can be wiped
        has_storage, models = data.CATALOGUE[category]
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

    def _devices_for_hub(
        self,
        *,
        hub: Hub,
        staff: AbstractBaseUser,
        donors: dict[str, Donor],
        projects: list[Project],
        day_offset: int,
    ) -> None:
        # The oldest donation holds the devices furthest along (delivered, recycled), the newest those still
        # on their way: a donation pledged two years ago is not still awaited.
        order = {state: rank for rank, state in enumerate(data.STATE_PLAN)}
        targets = [self._target(state, projects) for state, count in data.STATE_PLAN.items() for _ in range(count)]
        self.rng.shuffle(targets)
        targets.sort(key=lambda state: -order[state])
        per_donation = len(targets) // data.DONATIONS_PER_HUB
        devices_by_target: dict[str, list[Device]] = defaultdict(list)
        donations: list[Donation] = []
        for index, donor_name in enumerate(data.DONORS_BY_HUB[hub.code]):
            donor = donors[donor_name]
            chunk = targets[index * per_donation : (index + 1) * per_donation]
            if index == data.DONATIONS_PER_HUB - 1:
                chunk = targets[index * per_donation :]
            newest = index == data.DONATIONS_PER_HUB - 1
            pledged_at = None if newest else self._months_ago(data.DONATION_AGE_MONTHS[index] + 0.8 * day_offset)
            with moves_dated(pledged_at):
                donation = donation_pledge(
                    donor=donor,
                    hub=hub,
                    pickup_address=donor.address,
                    # A pickup date is for what is still to collect: the newest donation's.
                    pickup_date=timezone.localdate() + timedelta(days=7 * index + day_offset + 3) if newest else None,
                    notes="Demo donation.",
                    rows=[self._row(target, self.rng.randrange(1, 99_999)) for target in chunk],
                    actor=donor.users.first(),
                )
            donations.append(donation)
            if pledged_at is not None:
                Donation.objects.filter(pk=donation.pk).update(pledged_at=pledged_at)
            devices = list(donation.devices.order_by("id"))
            self._spread_clocks(devices, start=pledged_at or self.now)
            for target, device in zip(chunk, devices, strict=True):
                devices_by_target[target].append(device)

        certified = None
        if hub.code in data.CERTIFIED_DONATIONS:
            pledged_at = self._months_ago(2 + day_offset / 30)
            with moves_dated(pledged_at):
                certified = self._certified_donation(hub=hub, donor=donors[data.CERTIFIED_DONATIONS[hub.code]])
            Donation.objects.filter(pk=certified.pk).update(pledged_at=pledged_at)
            self._spread_clocks(list(certified.devices.order_by("id")), start=pledged_at)
            for target, device in zip(self._certified_targets(), certified.devices.order_by("id"), strict=True):
                devices_by_target[self._target(target, projects)].append(device)

        for target, devices in devices_by_target.items():
            for device in devices:
                for step in data.PATHS[target]:
                    self._perform(device=device, step=step, actor=staff)

        for stage in SHIPMENT_STAGES:
            # Shipments of a few devices each, in the order the devices were ready, to the projects in turn:
            # deliveries over the months, not all on one day.
            devices = sorted(devices_by_target.get(stage, []), key=lambda device: self.clock[device.pk])
            size = data.DEVICES_PER_SHIPMENT
            for number, start in enumerate(range(0, len(devices), size)):
                batch = devices[start : start + size]
                self._ship(stage=stage, batch=batch, project=projects[number % len(projects)], staff=staff)

        if certified is not None:
            # Issued here rather than by the task queued after the last wipe: that one runs after commit, and the
            # command may run inside an outer transaction (tests).
            self._certificate_issue_once_sampled(donation=certified)
            donation_recycling_certificate_issue(donation=certified)
        # The oldest donation's devices are all wiped (reused or recycled) by now: its certificate is due too.
        for donation in donations:
            with contextlib.suppress(CertificatePending):
                self._certificate_issue_once_sampled(donation=donation)

    @staticmethod
    def _target(state: str, projects: list[Project]) -> str:
        """Where a device of the plan ends at this hub: a hub without projects (its kind sends no devices to
        projects) keeps ready the devices that would have gone to one."""
        return DeviceState.CONFIGURED if state in SHIPMENT_STAGES and not projects else state

    def _devices_supplied_to(
        self,
        *,
        hub: Hub,
        supplier: Hub,
        users: dict[str, Any],
        donors: dict[str, Donor],
        projects: list[Project],
        day_offset: int,
    ) -> None:
        """A hub that takes no donations from companies (a partner-run site): its devices are donated to
        ``supplier``, refurbished there, sent in a container and checked in here, then go to this hub's projects.

        The journey is dated now (transfers record the moment they happen), so what this hub does with the
        devices is too: its history through the platform starts with the container.
        """
        supplier_staff = users[self._staff_username(supplier.code)]
        staff = users[self._staff_username(hub.code)]
        targets = [self._target(state, projects) for state, count in data.SUPPLY_PLAN.items() for _ in range(count)]
        self.rng.shuffle(targets)
        names = data.DONORS_BY_HUB[hub.code]
        per_donation = len(targets) // len(names)
        devices_by_target: dict[str, list[Device]] = defaultdict(list)
        donations: list[Donation] = []
        for index, donor_name in enumerate(names):
            donor = donors[donor_name]
            chunk = targets[index * per_donation : (index + 1) * per_donation]
            if index == len(names) - 1:
                chunk = targets[index * per_donation :]
            pledged_at = self._months_ago(
                data.DONATION_AGE_MONTHS[0] * (len(names) - index) / len(names) + 0.8 * day_offset
            )
            with moves_dated(pledged_at):
                donation = donation_pledge(
                    donor=donor,
                    hub=supplier,
                    pickup_address=donor.address,
                    notes=f"Demo donation, for the projects of {hub.name}.",
                    rows=[self._row(target, self.rng.randrange(1, 99_999)) for target in chunk],
                    actor=donor.users.first(),
                )
            Donation.objects.filter(pk=donation.pk).update(pledged_at=pledged_at)
            donations.append(donation)
            devices = list(donation.devices.order_by("id"))
            self._spread_clocks(devices, start=pledged_at)
            for target, device in zip(chunk, devices, strict=True):
                devices_by_target[target].append(device)
        travelling = [device for devices in devices_by_target.values() for device in devices]
        for device in travelling:
            for step in data.PATHS[DeviceState.CONFIGURED]:
                self._perform(device=device, step=step, actor=supplier_staff)
        transfer = transfer_send(
            from_hub=supplier,
            to_hub=hub,
            devices=travelling,
            reference=data.SUPPLY_CONTAINER,
            actor=users[f"manager-{supplier.code.lower()}"],
        )
        for device in travelling:
            transfer_check_in_scan(transfer=transfer, actor=staff, scan=device.serial_number)
            self.clock[device.pk] = self.now
        transfer_check_in_close(transfer=transfer, actor=staff)
        for stage in SHIPMENT_STAGES:
            devices = devices_by_target.get(stage, [])
            size = data.DEVICES_PER_SHIPMENT
            for number, start in enumerate(range(0, len(devices), size)):
                batch = [Device.objects.get(pk=device.pk) for device in devices[start : start + size]]
                self._ship(stage=stage, batch=batch, project=projects[number % len(projects)], staff=staff)
        for donation in donations:
            with contextlib.suppress(CertificatePending):
                self._certificate_issue_once_sampled(donation=donation)

    @staticmethod
    def _certificate_issue_once_sampled(*, donation: Donation) -> None:
        """Issue the donation's certificate; when it waits for its wipe sample, the hub's manager (who wiped none
        of the demo's media) re-verifies every picked medium, passing it, and the certificate issues."""
        try:
            donation_certificate_issue(donation=donation)
            return
        except CertificatePending:
            sample = wipe_sample_current(donation_id=donation.pk)
            if sample is None or sample.status != WipeSample.Status.OPEN:
                raise
        manager = get_user_model().objects.get(username=f"manager-{donation.hub.code.lower()}")
        for item in sample.items.filter(result=WipeSampleItem.Result.PENDING):
            wipe_sample_item_verify(item=item, actor=manager, passed=True, notes="Demo: re-read, no data found.")
        donation_certificate_issue(donation=donation)

    @staticmethod
    def _certified_targets() -> list[str]:
        return [state for state, count in data.CERTIFIED_PLAN.items() for _ in range(count)]

    def _certified_donation(self, *, hub: Hub, donor: Donor) -> Donation:
        return donation_pledge(
            donor=donor,
            hub=hub,
            pickup_address=donor.address,
            pickup_date=timezone.localdate() + timedelta(days=1),
            notes="Demo donation, fully processed.",
            rows=[self._row(target, self.rng.randrange(1, 99_999)) for target in self._certified_targets()],
            actor=donor.users.first(),
        )

    def _perform(self, *, device: Device, step: Step, actor: AbstractBaseUser) -> None:
        """What a technician does at the scan station or in the admin: the action and the fields they enter."""
        if step.storage_media_only and not device.has_storage_media:
            return
        fields = dict(step.fields)
        if step.draws_grade:
            fields["grade"] = self.rng.choice(data.GRADES)
        with moves_dated(self._tick(device)):
            device_perform_action(device=device, action=step.action, actor=actor, fields=fields)

    # --- the demo's calendar -------------------------------------------------------------------------------

    def _months_ago(self, months: float) -> datetime:
        return self.now - timedelta(days=round(months * 30.4))

    def _spread_clocks(self, devices: list[Device], *, start: datetime) -> None:
        """The devices of a donation start their work one after the other, from the pledge to a month ago."""
        end = max(start, self.now - timedelta(days=30))
        for index, device in enumerate(devices):
            self.clock[device.pk] = start + (end - start) * index / max(len(devices), 1) + timedelta(days=2)

    def _tick(self, device: Device) -> datetime | None:
        """The moment of the device's next move (a day or three after its last), or None (now) once caught up."""
        moment = self.clock.get(device.pk, self.now) + timedelta(hours=self.rng.randint(20, 72))
        self.clock[device.pk] = moment
        return moment if moment < self.now - timedelta(hours=1) else None

    def _batch_moment(self, batch: list[Device]) -> datetime | None:
        """A move of a whole shipment: after the last move of each of its devices."""
        latest = max(self.clock.get(device.pk, self.now) for device in batch)
        moment = latest + timedelta(hours=self.rng.randint(20, 72))
        for device in batch:
            self.clock[device.pk] = moment
        return moment if moment < self.now - timedelta(hours=1) else None

    def _ship(self, *, stage: str, batch: list[Device], project: Project, staff: AbstractBaseUser) -> None:
        with moves_dated(self._batch_moment(batch)):
            for device in batch:
                project_allocate_device(device=device, project=project, actor=staff, note="Demo allocation.")
            shipment = shipment_create(project=project, actor=staff, carrier="DHL Express", tracking_reference="")
        if stage == DeviceState.ALLOCATED:
            return  # a shipment being prepared
        with moves_dated(self._batch_moment(batch)):
            shipment = shipment_ship(shipment=shipment, actor=staff, note="Demo shipment.")
        if stage == DeviceState.DELIVERED:
            per_device = self.rng.randint(*data.BENEFICIARIES_PER_DEVICE)
            # The same path as the coordinator portal: a system move on the coordinator's behalf.
            with moves_dated(self._batch_moment(batch)):
                shipment_deliver(
                    shipment=shipment,
                    actor=None,
                    beneficiaries=per_device * len(batch),
                    note=f"Delivery confirmed by {data.COORDINATOR} (project coordinator)",
                )

    # --- output ------------------------------------------------------------------------------------------

    def _partner_work(self, *, hubs: dict[str, Hub], users: dict[str, Any]) -> None:
        """A refurbishment partner with its own account, and an open work order from its hub: wipe, test and
        configure devices waiting there (received, wiped or tested), within a fortnight."""
        hub = hubs[data.PARTNER_HUB]
        partner_user = self._user(data.PARTNER_USERNAME, staff=True)
        partner = partner_create(name=data.PARTNER_NAME, users=[partner_user])
        waiting = list(
            Device.objects.filter(
                hub=hub, state__in=[DeviceState.RECEIVED, DeviceState.SANITISED, DeviceState.INSPECTED]
            )
            .exclude(transfer_items__status="in_transit")
            .order_by("id")[: data.PARTNER_DEVICES]
        )
        if waiting:
            work_order_create(
                actor=users[f"manager-{hub.code.lower()}"],
                hub=hub,
                partner=partner,
                steps=list(PARTNER_STEPS),
                due_on=timezone.localdate() + timedelta(days=14),
                devices=waiting,
                note="Demo: part of the Brussels backlog.",
            )

    def _print_summary(self, *, folded: int, summary: dict[str, Any]) -> None:
        states = Counter(Device.objects.values_list("state", flat=True))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  hubs: {Hub.objects.count()}, projects: {Project.objects.count()}")
        self.stdout.write(f"  devices: {sum(states.values())}, events folded into impact: {folded}")
        for value, label in DeviceState.choices:
            self.stdout.write(f"    {label:<12} {states.get(value, 0):>4}")
        self.stdout.write(
            f"  public totals: {summary['devices_received']:,} devices received, "
            f"{summary['beneficiaries_reached']:,} people reached (including the historic opening balances)"
        )

    def _print_accounts(self) -> None:
        self.stdout.write("Demo accounts (password = username):")
        self.stdout.write("  admin              superuser, Django admin at /admin/")
        for code, *_ in data.HUBS:
            self.stdout.write(f"  {self._staff_username(code):<18} technician at {code}")
            self.stdout.write(f"  {'manager-' + code.lower():<18} manager at {code}: project pages at /projects/hub/")
        self.stdout.write("  donor-demo         Demo Donor NV: donor portal at /donors/")
        self.stdout.write(
            f"  {data.PARTNER_USERNAME:<18} {data.PARTNER_NAME}, partner of {data.PARTNER_HUB}: its work order's "
            "devices in the admin, API and scan station"
        )
        self.stdout.write(f"  {data.COORDINATOR:<18} coordinator of one project per hub that has projects: /projects/")
