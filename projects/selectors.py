"""Reads for the coordinator portal, scoped to the projects the user coordinates."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, QuerySet

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
