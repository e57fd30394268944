"""What the parts of the project services share: the one error they raise and the checks they all make."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from hubs.models import Hub
from hubs.selectors import user_is_hub_manager
from projects.models import (
    Project,
    Shipment,
)
from refurbishing.models import Device
from refurbishing.services import device_transition_refusal


class ProjectError(Exception):
    """A project, request, allocation, shipment or delivery change that was refused, with a message to act on.

    ``code`` says how surfaces answer, as for ``LifecycleError``: "invalid" (400), "conflict" (someone else acted
    first, 409), "forbidden" (403), "not_found" (outside the user's scope, 404).
    """

    def __init__(self, message: str, *, code: str = "invalid", field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field_errors = field_errors or {}


def validation_message(project: Project, error: ValidationError) -> str:
    messages = []
    for field, field_messages in error.message_dict.items():
        label = project._meta.get_field(field).verbose_name if field != "__all__" else ""
        for message in field_messages:
            messages.append(_("%(field)s: %(message)s") % {"field": label, "message": message} if label else message)
    return " ".join(messages)


def require_manager(*, user: AbstractBaseUser, hub_id: int, what: str) -> None:
    if not user_is_hub_manager(user=user, hub_id=hub_id):
        raise ProjectError(
            _("Only a manager of the serving hub can %(what)s.") % {"what": what},
            code="forbidden",
        )


def require_sends_to_projects(hub: Hub) -> None:
    """Refuse, in a sentence, a project or an allocation at a hub whose kind sends no devices to projects."""
    if not hub.kind.sends_to_projects:
        message = _("%(hub)s does not send devices to projects; choose another hub.") % {"hub": hub.name}
        raise ProjectError(message, field_errors={"hub": [message]})


def project_data(project: Project, shipment: Shipment | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"project_id": project.pk, "project_kind": project.kind}
    if shipment is not None:
        data["shipment_id"] = shipment.pk
    return data


def device_guard_refusal(device: Device, action: str, data: Mapping[str, Any] | None = None) -> str | None:
    return device_transition_refusal(device=device, action=action, data=data)
