"""One entry point for "perform this action on this device with these fields", for every surface.

Each action validates its fields with a form and calls ``device_transition``. Actions that need another
app's objects (allocate, ship and deliver need a project) are registered by that app at start-up, so
the core stays free of imports from the apps above it.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from .errors import LifecycleError
from .forms import InspectionForm, NoteForm, ReceiveForm, RecycleForm, SanitisationForm
from .lifecycle import ACTIONS
from .models import Device
from .services import device_transition

ActionHandler = Callable[..., Device]
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "receive": ReceiveForm,
    "mark_missing": NoteForm,
    "sanitise": SanitisationForm,
    "inspect": InspectionForm,
    "configure": NoteForm,
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
    raise LifecycleError(f"'{action}' is not a device action. Choose one of: {', '.join(ACTIONS)}.")


def validate_action_fields(action: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean the fields an action carries, or raise ``LifecycleError`` listing what is wrong."""
    form = action_form_class(action)(data=fields)
    if not form.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
        raise LifecycleError(f"Please correct the {action} details: {summary}", field_errors=errors)
    return form.cleaned_data


def _core_handler(*, device: Device, action: str, actor: AbstractBaseUser, cleaned: dict[str, Any]) -> Device:
    note = cleaned.pop("note", "") or ""
    if action == "receive":
        return device_transition(device=device, action=action, actor=actor, note=note, hub=cleaned.get("hub"))
    if action in ("sanitise", "inspect"):
        return device_transition(device=device, action=action, actor=actor, note=note, record=cleaned)
    if action == "recycle":
        weight = cleaned.get("weight_kg") or device.weight_kg
        return device_transition(device=device, action=action, actor=actor, note=note, data={"weight_kg": weight})
    return device_transition(device=device, action=action, actor=actor, note=note)


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
