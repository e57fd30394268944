"""Projects apply for devices: creation, coordinators, device requests, application and resubmission."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hubs.models import Hub
from projects.models import (
    DeviceRequest,
    Project,
)
from projects.services.common import ProjectError, require_sends_to_projects, validation_message


def project_create(
    *,
    organisation: str,
    name: str,
    kind: str,
    country: str,
    hub: Hub,
    expected_beneficiaries: int = 0,
    public: bool = False,
) -> Project:
    """Register a beneficiary organisation's project, served by one hub."""
    if not hub.active:
        raise ProjectError(_("%(hub)s does not serve projects at the moment; choose another hub.") % {"hub": hub.name})
    require_sends_to_projects(hub)
    project = Project(
        organisation=organisation,
        name=name,
        kind=kind,
        country=country.strip().upper(),
        hub=hub,
        expected_beneficiaries=expected_beneficiaries,
        public=public,
    )
    try:
        project.full_clean()
    except ValidationError as exc:
        raise ProjectError(validation_message(project, exc)) from exc
    with transaction.atomic():
        project.save()
    return project


def project_coordinator_add(*, project: Project, user: AbstractBaseUser) -> Project:
    """Let a user coordinate a project: apply for devices and confirm deliveries on the project portal."""
    if not user.is_active:
        raise ProjectError(
            _("%(user)s is deactivated; reactivate the account before making it coordinate %(project)s.")
            % {"user": user, "project": project.name}
        )
    with transaction.atomic():
        project.coordinators.add(user)
    return project


REQUEST_FIELDS = (
    "category",
    "quantity",
    "min_ram_gb",
    "min_storage_gb",
    "min_cpu",
    "min_grade",
    "ssd_required",
    "keyboard_layout",
    "language",
    "purpose",
)


def _requests_create(*, project: Project, requests: Iterable[Mapping[str, Any]]) -> list[DeviceRequest]:
    rows = [dict(row) for row in requests if row]
    if not rows:
        message = _("Ask for at least one kind of device.")
        raise ProjectError(message, field_errors={"requests": [message]})
    created = []
    for row in rows:
        request = DeviceRequest(project=project, **{k: v for k, v in row.items() if k in REQUEST_FIELDS})
        if request.min_cpu is None:
            request.min_cpu = ""
        try:
            request.full_clean(exclude=["project"])
        except ValidationError as exc:
            raise ProjectError(validation_message(request, exc), field_errors=exc.message_dict) from exc
        request.save()
        created.append(request)
    return created


def project_requests_add(*, project: Project, requests: Iterable[Mapping[str, Any]]) -> list[DeviceRequest]:
    """Requests a hub registers for a project it serves (admin, demo data); approved with an approved project."""
    with transaction.atomic():
        created = _requests_create(project=project, requests=requests)
        if project.status == Project.Status.APPROVED:
            DeviceRequest.objects.filter(pk__in=[r.pk for r in created]).update(status=DeviceRequest.Status.APPROVED)
    return created


def project_apply(
    *,
    applicant: AbstractBaseUser,
    organisation: str,
    name: str,
    kind: str,
    country: str,
    place: str,
    hub: Hub,
    expected_beneficiaries: int,
    requests: Iterable[Mapping[str, Any]],
) -> Project:
    """A coordinator's application: the project, the people it will serve and the devices it asks for.

    The applicant coordinates the project from now on; the serving hub's managers review it.
    """
    if not hub.active:
        raise ProjectError(_("%(hub)s does not serve projects at the moment; choose another hub.") % {"hub": hub.name})
    require_sends_to_projects(hub)
    if expected_beneficiaries < 1:
        message = _("Say how many people the project will serve: 1 or more.")
        raise ProjectError(message, field_errors={"expected_beneficiaries": [message]})
    project = Project(
        organisation=organisation,
        name=name,
        kind=kind,
        country=country.strip().upper(),
        place=place,
        hub=hub,
        expected_beneficiaries=expected_beneficiaries,
        status=Project.Status.SUBMITTED,
        applied_by=applicant,
    )
    try:
        project.full_clean()
    except ValidationError as exc:
        raise ProjectError(validation_message(project, exc), field_errors=exc.message_dict) from exc
    with transaction.atomic():
        project.save()
        project.coordinators.add(applicant)
        _requests_create(project=project, requests=requests)
    return project


def project_resubmit(
    *,
    project: Project,
    actor: AbstractBaseUser,
    expected_beneficiaries: int,
    place: str,
    requests: Iterable[Mapping[str, Any]],
) -> Project:
    """Send an application back for review after the hub asked for changes, with its new requests."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not project.coordinators.filter(pk=actor.pk).exists():
            raise ProjectError(_("No such project among yours."), code="not_found")
        if project.status != Project.Status.CHANGES_REQUESTED:
            raise ProjectError(
                _("This application is %(status)s; only one the hub sent back for changes can be resubmitted.")
                % {"status": project.get_status_display()},
                code="conflict",
            )
        if expected_beneficiaries < 1:
            message = _("Say how many people the project will serve: 1 or more.")
            raise ProjectError(message, field_errors={"expected_beneficiaries": [message]})
        project.requests.filter(status=DeviceRequest.Status.OPEN, allocations__isnull=True).delete()
        _requests_create(project=project, requests=requests)
        project.expected_beneficiaries = expected_beneficiaries
        project.place = place
        project.status = Project.Status.SUBMITTED
        project.save(update_fields=["expected_beneficiaries", "place", "status"])
    return project
