"""One entry point for "perform this action on this device with these fields", for every surface.

Each action validates its fields with a form and calls ``device_transition``. Actions that need another
app's objects (allocate, ship and deliver need a project) are registered by that app at start-up, so
the core stays free of imports from the apps above it.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import LifecycleError
from .forms import SPEC_FIELDS, ConfigurationForm, InspectionForm, NoteForm, ReceiveForm, RecycleForm, SanitisationForm
from .lifecycle import ACTIONS, FIGURE_DEFAULT_FROM_DEVICE, needs_of
from .models import Device
from .services import device_transition, device_update

ActionHandler = Callable[..., Device]
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "receive": ReceiveForm,
    "mark_missing": NoteForm,
    "sanitise": SanitisationForm,
    "inspect": InspectionForm,
    "configure": ConfigurationForm,
    "recycle": RecycleForm,
}
_handlers: dict[str, tuple[type[forms.Form], ActionHandler]] = {}


def register_action(action: str, *, form_class: type[forms.Form], handler: ActionHandler) -> None:
    """Let an app above the core supply the form and handler for one lifecycle action."""
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not declared in refurbishing.lifecycle")
    _handlers[action] = (form_class, handler)


def action_form_class(action: str) -> type[forms.Form]:
    if action in _handlers:
        return _handlers[action][0]
    if action in ACTION_FORMS:
        return ACTION_FORMS[action]
    raise LifecycleError(
        _("'%(action)s' is not a device action. Choose one of: %(actions)s.")
        % {"action": action, "actions": ", ".join(ACTIONS)}
    )


def validate_action_fields(action: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean the fields an action carries, or raise ``LifecycleError`` listing what is wrong."""
    form = action_form_class(action)(data=fields)
    if not form.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        raise LifecycleError(
            _("Please correct the %(action)s details: %(summary)s") % {"action": action, "summary": summary},
            field_errors=errors,
        )
    return form.cleaned_data


def _core_handler(*, device: Device, action: str, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    """Hand the cleaned fields to the service where the action's declared need says they go."""
    note = cleaned.pop("note", "") or ""
    hub = cleaned.pop("hub", None)
    needs = needs_of(action)
    specs = {name: cleaned.pop(name) for name in SPEC_FIELDS if name in cleaned}
    specs = {name: value for name, value in specs.items() if value not in (None, "")}
    if any(need.is_record for need in needs):
        if not specs:
            return device_transition(device=device, action=action, actor=actor, note=note, hub=hub, record=cleaned)
        # What the device has, as the bench found it, and the move: both or neither.
        with transaction.atomic():
            changed = {name: value for name, value in specs.items() if getattr(device, name) != value}
            if changed:
                version = device.version
                device = device_update(device=device, actor=actor, fields=changed)
                device.version = version  # a description, not a move: the move's own staleness check still holds
            return device_transition(device=device, action=action, actor=actor, note=note, hub=hub, record=cleaned)
    data = dict(cleaned)
    for need in needs:
        device_field = FIGURE_DEFAULT_FROM_DEVICE.get(need)
        if device_field and data.get(device_field) in (None, ""):
            data[device_field] = getattr(device, device_field)
    return device_transition(device=device, action=action, actor=actor, note=note, hub=hub, data=data)


def device_perform_action(
    *,
    device: Device,
    action: str,
    actor: AbstractBaseUser,
    fields: Mapping[str, Any],
    cleaned: dict[str, Any] | None = None,
) -> Device:
    """Validate ``fields`` for ``action`` (unless already ``cleaned``) and apply it."""
    if cleaned is None:
        cleaned = validate_action_fields(action, fields)
    cleaned = dict(cleaned)
    if action in _handlers:
        return _handlers[action][1](device=device, actor=actor, cleaned=cleaned)
    return _core_handler(device=device, action=action, actor=actor, cleaned=cleaned)
