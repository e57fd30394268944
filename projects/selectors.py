"""Reads for the coordinator portal, scoped to the projects the user coordinates, and for the public pages."""

import re

from django.conf.locale import LANG_INFO
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext

from hubs.selectors import hub_ids_for_user, hub_ids_managed_by, restrict_to_user_hubs
from refurbishing.destinations import Destination
from refurbishing.models import ConfigurationRecord, Device, DeviceState, Drive, MediaType

from .models import (
    Allocation,
    BeneficiaryOrganisation,
    CpuClass,
    DeliveryConfirmation,
    DeliveryLine,
    DeviceRequest,
    Project,
    ProjectStory,
    Shipment,
)

User = AbstractBaseUser | AnonymousUser


def shipment_list_with_counts() -> QuerySet[Shipment]:
    return Shipment.objects.annotate(device_count=Count("devices")).order_by("-created_at", "-id")


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    """The projects the user coordinates, each with its shipments and their device counts (two queries)."""
    if not user.is_authenticated:
        return Project.objects.none()
    # Their own, and every project of their organisation, so that an invited colleague takes part at once.
    ids = Project.objects.filter(Q(coordinators=user) | Q(organisation__in=_signed_up_organisations(user)))
    return (
        Project.objects.filter(pk__in=ids.values("pk"))
        .select_related("hub")
        .prefetch_related(Prefetch("shipments", queryset=shipment_list_with_counts()))
        .order_by("name", "id")
    )


def shipment_get_for_coordinator(*, user: User, pk: int) -> Shipment:
    """One shipment of a project the user coordinates; ``Shipment.DoesNotExist`` for anyone else's."""
    if not user.is_authenticated:
        raise Shipment.DoesNotExist
    return Shipment.objects.filter(project__coordinators=user).select_related("project", "hub").distinct().get(pk=pk)


# Public reads: only projects that opted in, and only what they agreed to show (no coordinators).


def project_list_public(*, hub_code: str | None = None) -> QuerySet[Project]:
    """Projects shown publicly, each with ``devices_delivered`` and ``beneficiaries_reached`` (one query).

    Devices are those of the project's shipments that reached "delivered"; people are the sums confirmed at
    delivery. Both are subqueries, so the two figures never multiply each other as joined aggregates would.
    A shipment delivered device by device is counted as each device arrives, like the public counters.
    """
    delivered = (
        Shipment.devices.through.objects.filter(shipment__project=OuterRef("pk"), device__state=DeviceState.DELIVERED)
        .order_by()
        .values("shipment__project")
        .annotate(count=Count("device", distinct=True))
        .values("count")
    )
    reached = (
        Shipment.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(total=Sum("beneficiaries_confirmed"))
        .values("total")
    )
    projects = Project.objects.filter(public=True)
    if hub_code is not None:
        projects = projects.filter(hub__code=hub_code)
    return (
        projects.select_related("hub")
        .annotate(
            devices_delivered=Coalesce(Subquery(delivered, output_field=IntegerField()), 0),
            beneficiaries_reached=Coalesce(Subquery(reached, output_field=IntegerField()), 0),
        )
        .order_by("name", "id")
    )


def project_get_public(*, pk: int) -> Project:
    """One publicly shown project with its figures; ``Project.DoesNotExist`` for any other."""
    return project_list_public().get(pk=pk)


def project_destinations(project_ids: set[int]) -> dict[int, Destination]:
    """What a donor may see of the projects its devices reached: kind and country, and for projects shown
    publicly their name and public page (registered with the core in ``ProjectsConfig.ready``)."""
    destinations = {}
    for project in Project.objects.filter(pk__in=project_ids).only("id", "kind", "country", "public", "name"):
        destinations[project.pk] = Destination(
            kind=project.kind,
            kind_label=str(project.get_kind_display()),
            country=project.country,
            public_name=project.name if project.public else "",
            public_url=reverse("impact:project", args=[project.pk]) if project.public else "",
        )
    return destinations


def project_story_list_public(*, project_id: int) -> QuerySet[ProjectStory]:
    """A public project's stories that a hub manager approved, newest first."""
    return ProjectStory.objects.filter(project_id=project_id, status=ProjectStory.Status.APPROVED).order_by(
        "-created_at", "-id"
    )


# --- scoping: a coordinator sees their organisation's projects, hub staff their hubs' ---------------------------


def _coordinated_organisations(user: User) -> QuerySet:
    return Project.objects.filter(coordinators=user).values("organisation")


def _signed_up_organisations(user: User) -> QuerySet:
    """The names of the beneficiary organisations the user belongs to (signed up, or invited by a colleague)."""
    return BeneficiaryOrganisation.objects.filter(users=user).values("name")


def project_list_visible(*, user: User) -> QuerySet[Project]:
    """Projects the user may see: their organisation's (as a coordinator) and their hubs' (as hub staff).

    The organisation is the one of the projects the user coordinates (``Project.organisation``).
    """
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    own = (
        Q(organisation__in=_coordinated_organisations(user))
        | Q(organisation__in=_signed_up_organisations(user))
        | Q(coordinators=user)
    )
    hub_ids = hub_ids_for_user(user=user)
    scope = Q() if hub_ids is None else own | Q(hub_id__in=hub_ids)
    ids = Project.objects.filter(scope).values("pk")
    return Project.objects.filter(pk__in=ids).select_related("hub").order_by("name", "id")


def project_get_visible(*, user: User, pk: int) -> Project:
    return project_list_visible(user=user).get(pk=pk)


def project_list_coordinated(*, user: User) -> QuerySet[Project]:
    """The projects the user coordinates (the project portal's "My projects"): theirs and their organisation's."""
    if not user.is_authenticated:
        return Project.objects.none()
    # Their own, and every project of their organisation, so that an invited colleague takes part at once.
    ids = Project.objects.filter(Q(coordinators=user) | Q(organisation__in=_signed_up_organisations(user)))
    return (
        Project.objects.filter(pk__in=ids.values("pk"))
        .select_related("hub")
        .prefetch_related("requests")
        .order_by("name", "id")
    )


def project_get_coordinated(*, user: User, pk: int) -> Project:
    return project_list_coordinated(user=user).get(pk=pk)


def device_request_list_visible(*, user: User) -> QuerySet[DeviceRequest]:
    return (
        DeviceRequest.objects.filter(project__in=project_list_visible(user=user).values("pk"))
        .select_related("project", "project__hub")
        .annotate(allocated=Count("allocations"))
        .order_by("-created_at", "-id")
    )


def shipment_list_visible(*, user: User) -> QuerySet[Shipment]:
    return (
        Shipment.objects.filter(project__in=project_list_visible(user=user).values("pk"))
        .select_related("project", "hub")
        .annotate(device_count=Count("devices", distinct=True))
        .order_by("-created_at", "-id")
    )


def shipment_list_for_coordinator(*, user: User) -> QuerySet[Shipment]:
    if not user.is_authenticated:
        return Shipment.objects.none()
    return (
        Shipment.objects.filter(project__in=Project.objects.filter(coordinators=user).values("pk"))
        .select_related("project", "hub")
        .annotate(device_count=Count("devices", distinct=True))
        .order_by("-created_at", "-id")
    )


def delivery_list_visible(*, user: User) -> QuerySet[DeliveryConfirmation]:
    return (
        DeliveryConfirmation.objects.filter(shipment__project__in=project_list_visible(user=user).values("pk"))
        .select_related("shipment", "shipment__project")
        .prefetch_related("lines", "corrections")
        .order_by("-created_at", "-id")
    )


# --- for hub managers ----------------------------------------------------------------------------------------


def project_list_for_review(*, user: User) -> QuerySet[Project]:
    """Applications waiting for a decision at the hubs the user manages."""
    managed = hub_ids_managed_by(user=user)
    projects = Project.objects.filter(status=Project.Status.SUBMITTED)
    if managed is not None:
        projects = projects.filter(hub_id__in=managed)
    return projects.select_related("hub").prefetch_related("requests").order_by("id")


def device_request_list_to_allocate(*, user: User) -> QuerySet[DeviceRequest]:
    """Approved requests at the user's hubs that still want devices."""
    return (
        restrict_to_user_hubs(
            DeviceRequest.objects.filter(status=DeviceRequest.Status.APPROVED), user=user, field="project__hub"
        )
        .select_related("project", "project__hub")
        .annotate(allocated=Count("allocations"))
        .order_by("created_at", "id")
    )


def story_list_for_review(*, user: User) -> QuerySet[ProjectStory]:
    managed = hub_ids_managed_by(user=user)
    stories = ProjectStory.objects.filter(status=ProjectStory.Status.SUBMITTED)
    if managed is not None:
        stories = stories.filter(project__hub_id__in=managed)
    return stories.select_related("project").order_by("id")


def delivery_lines_flagged(*, user: User) -> QuerySet[DeliveryLine]:
    """Devices a project reported missing or damaged that are still shipped: the hub follows them up."""
    lines = DeliveryLine.objects.filter(
        outcome__in=[DeliveryLine.Outcome.MISSING, DeliveryLine.Outcome.DAMAGED], device__state=DeviceState.SHIPPED
    )
    return restrict_to_user_hubs(lines, user=user, field="confirmation__shipment__hub").select_related(
        "device", "confirmation__shipment__project"
    )


def allocation_list_unshipped(*, project: Project) -> QuerySet[Allocation]:
    return Allocation.objects.filter(project=project, shipment__isnull=True).select_related("device").order_by("id")


# --- fit: which configured devices suit a request ------------------------------------------------------------

# A minimum processor class, matched in the device's CPU description: Intel Core iN, AMD Ryzen N, Apple M.
CPU_PATTERNS = {  # written for both PostgreSQL and SQLite/Python regular expressions (no \b: PostgreSQL differs)
    CpuClass.ENTRY: r"(core\s*(\(tm\))?\s*i[3579]|ryzen\s*[3579]|apple\s*m[1-9])",
    CpuClass.MID: r"(core\s*(\(tm\))?\s*i[579]|ryzen\s*[579]|apple\s*m[1-9])",
    CpuClass.HIGH: r"(core\s*(\(tm\))?\s*i[79]|ryzen\s*[79]|apple\s*m[1-9])",
}
GRADES_AT_LEAST = {"A": ["A"], "B": ["A", "B"], "C": ["A", "B", "C"]}


def _layout_names(layout: str) -> set[str]:
    """How a configuration record may name the keyboard layout a request asks for: "QWERTY US" is met by a
    device configured "QWERTY US", "US" or "QWERTY"; "AZERTY (BE)" by "AZERTY (BE)", "AZERTY BE", "BE"..."""
    words = re.findall(r"[A-Za-z0-9]+", layout.upper())
    return {layout.strip().upper(), " ".join(words), *words} - {""}


def _language_names(language: str) -> set[str]:
    """A request's language ("sw") and the ways a technician writes it on a configuration ("Swahili",
    "Kiswahili", "sw")."""
    code = language.strip().lower()
    info = LANG_INFO.get(code, {})
    return {code, info.get("name", ""), info.get("name_local", "")} - {""}


def _any_iexact(field: str, names: set[str]) -> Q:
    condition = Q()
    for name in sorted(names):
        condition |= Q(**{f"{field}__iexact": name})
    return condition


def _fit_conditions(request: DeviceRequest) -> Q:
    """The one definition of "this device fits this request", as a query.

    The device's own fields (category, RAM, storage, CPU class, grade), its drives (an SSD or NVMe drive when the
    request needs an SSD) and its configuration record (keyboard layout and language), so that what a
    technician recorded at the bench is what a project's request is matched on.
    """
    q = Q(category=request.category, hub_id=request.project.hub_id, state=DeviceState.CONFIGURED)
    if request.min_ram_gb:
        q &= Q(ram_gb__gte=request.min_ram_gb)
    if request.min_storage_gb:
        q &= Q(storage_gb__gte=request.min_storage_gb)
    if request.min_cpu:
        q &= Q(cpu__iregex=CPU_PATTERNS[CpuClass(request.min_cpu)])
    q &= Q(grade__in=GRADES_AT_LEAST.get(request.min_grade or "C", ["A", "B", "C"]))
    if request.ssd_required:
        # A drive the hardware report found, or, for a device without a report, the kind the donor's list or the
        # bench recorded.
        solid_state = [MediaType.SSD, MediaType.NVME]
        q &= Q(Exists(Drive.objects.filter(device=OuterRef("pk"), media_type__in=solid_state))) | Q(
            ~Exists(Drive.objects.filter(device=OuterRef("pk"))), storage_kind__in=solid_state
        )
    configured = ConfigurationRecord.objects.filter(device=OuterRef("pk"))
    if request.keyboard_layout.strip():
        configured = configured.filter(_any_iexact("keyboard_layout", _layout_names(request.keyboard_layout)))
    if request.language.strip():
        configured = configured.filter(_any_iexact("language", _language_names(request.language)))
    if request.keyboard_layout.strip() or request.language.strip():
        q &= Q(Exists(configured))
    return q


def device_list_fitting(*, request: DeviceRequest) -> QuerySet[Device]:
    """Configured, unallocated devices at the request's hub that fit it, best first (grade, then RAM, storage)."""
    return (
        Device.objects.filter(_fit_conditions(request), allocation__isnull=True)
        .select_related("hub")
        .order_by("grade", F("ram_gb").desc(nulls_last=True), F("storage_gb").desc(nulls_last=True), "id")
    )


def device_list_not_fitting(*, request: DeviceRequest) -> QuerySet[Device]:
    """Configured, unallocated devices of the request's category at its hub that do not fit it: what a manager
    may still allocate with a reason (a laptop with 4 GB where 8 were asked, when nothing better will come)."""
    return (
        Device.objects.filter(
            category=request.category,
            hub_id=request.project.hub_id,
            state=DeviceState.CONFIGURED,
            allocation__isnull=True,
        )
        .exclude(_fit_conditions(request))
        .select_related("hub")
        .order_by("grade", F("ram_gb").desc(nulls_last=True), F("storage_gb").desc(nulls_last=True), "id")
    )


def device_suggestion_for_request(*, request: DeviceRequest, limit: int) -> QuerySet[Device]:
    return device_list_fitting(request=request)[: max(limit, 0)]


def device_fit_refusal(*, device: Device, request: DeviceRequest) -> str | None:
    """Why a device does not fit a request (None when it does), for the refusal a person reads."""
    if Device.objects.filter(_fit_conditions(request), pk=device.pk).exists():
        return None
    return gettext(
        "%(device)s does not fit the request (%(request)s): check its category, state, hub, RAM, storage, CPU, "
        "grade, drives and configuration."
    ) % {"device": device, "request": request}
