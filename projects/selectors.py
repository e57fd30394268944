"""Reads for the coordinator portal, scoped to the projects the user coordinates, and for the public pages."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse

from refurbishing.destinations import Destination
from refurbishing.models import DeviceState

from .models import Project, Shipment

User = AbstractBaseUser | AnonymousUser


def shipment_list_with_counts() -> QuerySet[Shipment]:
    return Shipment.objects.annotate(device_count=Count("devices")).order_by("-created_at", "-id")


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    """The projects the user coordinates, each with its shipments and their device counts (two queries)."""
    if not user.is_authenticated:
        return Project.objects.none()
    return (
        Project.objects.filter(coordinators=user)
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
