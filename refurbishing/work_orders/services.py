"""Writes and the lifecycle's question about work orders: may this partner's user take this step on this device."""

from collections.abc import Iterable, Mapping
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from hubs.models import PARTNER_STEPS, Hub, Partner
from hubs.selectors import partner_ids_for_user, user_can_act_in_hub, user_is_hub_manager
from refurbishing.errors import LifecycleError
from refurbishing.models import Device, WorkOrder
from refurbishing.work_orders.selectors import work_order_open_holding

PARTNER_DATA_KEYS = ("work_order_id", "partner_id", "partner")


def _verbs(steps: Iterable[str]) -> str:
    from refurbishing.lifecycle import action_verb

    return ", ".join(action_verb(step) for step in steps)


def work_order_needed(*, device: Device, actor: AbstractBaseUser | None) -> bool:
    """Whether ``actor`` moves ``device`` only under a work order: not the system, a superuser or hub staff there."""
    return actor is not None and not user_can_act_in_hub(user=actor, hub_id=device.hub_id)


def work_order_refusal(*, order: WorkOrder | None, device: Device, action: str) -> LifecycleError | None:
    """Why a partner's user may not take ``action`` on ``device`` under ``order`` (their partner's open order that
    holds it, None when there is none), or None when they may. The one rule: the lifecycle's partner guard raises
    this, and the API's ``allowed_actions`` lists only the actions it lets through."""
    if order is None:
        return LifecycleError(
            _("%(device)s is not in an open work order of your organisation.") % {"device": device}, code="forbidden"
        )
    if action not in (order.steps or []):
        return LifecycleError(
            _(
                "%(order)s lets %(partner)s %(steps)s %(device)s, not %(action)s it. Ask %(hub)s to add the step "
                "to the order."
            )
            % {
                "order": order.reference,
                "partner": order.partner.name,
                "steps": _verbs(order.steps),
                "device": device,
                "action": _verbs([action]),
                "hub": order.hub.name,
            },
            code="forbidden",
        )
    if timezone.localdate() > order.due_on:
        return LifecycleError(
            _("%(order)s was due on %(date)s: %(partner)s can no longer move %(device)s. Ask %(hub)s to extend it.")
            % {
                "order": order.reference,
                "date": formats.date_format(order.due_on),
                "partner": order.partner.name,
                "device": device,
                "hub": order.hub.name,
            },
            code="forbidden",
        )
    return None


def work_order_acting_for(*, device: Device, actor: AbstractBaseUser | None, action: str) -> WorkOrder | None:
    """The work order under which ``actor`` takes ``action`` on ``device``, or None when they act as hub staff.

    A person who works at the device's hub (or a superuser, or the system) needs no order. Anyone else may move it
    only as a partner's user, under the partner's open order that holds the device, lists the step and is not past
    its due date; otherwise ``LifecycleError`` says which of these fails (``work_order_refusal``).
    """
    if not work_order_needed(device=device, actor=actor):
        return None
    from .selectors import work_order_open_holding

    order = work_order_open_holding(device_ids=[device.pk], partner_ids=partner_ids_for_user(user=actor)).get(device.pk)
    refusal = work_order_refusal(order=order, device=device, action=action)
    if refusal is not None:
        raise refusal
    return order


def work_order_actions_allowed(
    *, device: Device, actor: AbstractBaseUser | None, actions: Iterable[str], orders: Mapping[int, WorkOrder]
) -> list[str]:
    """Of ``actions``, those the partner guard lets ``actor`` take on ``device`` (all of them for hub staff), with
    ``orders`` from ``work_order_open_holding`` (so a list of devices costs one query, not one per device)."""
    if not work_order_needed(device=device, actor=actor):
        return list(actions)
    order = orders.get(device.pk)
    return [action for action in actions if work_order_refusal(order=order, device=device, action=action) is None]


def work_order_actions_for(*, device: Device, actor: AbstractBaseUser | None, actions: Iterable[str]) -> list[str]:
    """Of ``actions``, those ``actor`` may take on this one device (``work_order_actions_allowed`` with its order
    read here: one query for a partner's user, none for hub staff)."""
    if not work_order_needed(device=device, actor=actor):
        return list(actions)
    orders = work_order_open_holding(device_ids=[device.pk], partner_ids=partner_ids_for_user(user=actor))
    return work_order_actions_allowed(device=device, actor=actor, actions=actions, orders=orders)


def work_order_event_data(order: WorkOrder) -> dict[str, object]:
    """What a move under the order adds to its custody event: the order and the partner (the person is the actor)."""
    return {"work_order_id": order.pk, "partner_id": order.partner_id, "partner": order.partner.name}


def work_order_check(
    *,
    hub: Hub,
    partner: Partner,
    steps: list[str],
    due_on: date,
    devices: Iterable[Device],
    work_order: WorkOrder | None = None,
) -> list[str]:
    """Why an order with these terms cannot be open, as sentences (empty when it can).

    Every device is at the order's hub, not already in another open order (one partner at a time holds a device),
    and in a state where one of the order's steps comes next; the due date is not past.
    """
    from refurbishing.lifecycle import source_states

    problems: list[str] = []
    if not partner.active:
        problems.append(_("%(partner)s is no longer active.") % {"partner": partner.name})
    if not steps or any(step not in PARTNER_STEPS for step in steps):
        problems.append(_("Choose the steps from: %(steps)s.") % {"steps": _verbs(PARTNER_STEPS)})
    if due_on < timezone.localdate():
        problems.append(_("The due date is in the past."))
    devices = list(devices)
    if not devices:
        problems.append(_("Assign at least one device."))
    elsewhere = [device for device in devices if device.hub_id != hub.pk]
    if elsewhere:
        problems.append(
            _("Not at %(hub)s: %(devices)s.") % {"hub": hub.code, "devices": ", ".join(map(str, elsewhere))}
        )
    startable = {state for step in steps if step in PARTNER_STEPS for state in source_states(step)}
    no_work = [device for device in devices if device.state not in startable]
    if steps and no_work:
        problems.append(
            _("No step of the order comes next for: %(devices)s.") % {"devices": ", ".join(map(str, no_work))}
        )
    device_ids = [device.pk for device in devices]
    taken = WorkOrder.objects.filter(status=WorkOrder.Status.OPEN, devices__in=device_ids)
    if work_order is not None and work_order.pk:
        taken = taken.exclude(pk=work_order.pk)
    taken_devices = sorted({str(device) for device in Device.objects.filter(work_orders__in=taken, pk__in=device_ids)})
    if taken_devices:
        problems.append(_("Already in another open work order: %(devices)s.") % {"devices": ", ".join(taken_devices)})
    return problems


def _require_manager(*, actor: AbstractBaseUser, hub: Hub) -> None:
    if not user_is_hub_manager(user=actor, hub_id=hub.pk):
        raise LifecycleError(
            _("Only a manager of %(hub)s may give its work to a partner.") % {"hub": hub.code}, code="forbidden"
        )


def work_order_create(
    *,
    actor: AbstractBaseUser,
    hub: Hub,
    partner: Partner,
    steps: list[str],
    due_on: date,
    devices: Iterable[Device],
    note: str = "",
) -> WorkOrder:
    """Open a work order for ``partner`` at ``hub``, by one of its managers, or refuse saying why (nothing written)."""
    _require_manager(actor=actor, hub=hub)
    steps = [step for step in PARTNER_STEPS if step in set(steps)]
    with transaction.atomic():
        # Locked so that two orders opened at once cannot both take a device.
        locked = list(Device.objects.select_for_update().filter(pk__in=[device.pk for device in devices]))
        problems = work_order_check(hub=hub, partner=partner, steps=steps, due_on=due_on, devices=locked)
        if problems:
            raise LifecycleError(" ".join(problems))
        order = WorkOrder.objects.create(
            hub=hub, partner=partner, steps=steps, due_on=due_on, note=note, created_by=actor
        )
        order.devices.set(locked)
    return order


def work_order_close(*, actor: AbstractBaseUser, work_order: WorkOrder) -> WorkOrder:
    """Close an order: its partner's users no longer see or move its devices. Closing a closed order is a no-op."""
    _require_manager(actor=actor, hub=work_order.hub)
    with transaction.atomic():
        locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        if locked.status == WorkOrder.Status.OPEN:
            locked.status = WorkOrder.Status.CLOSED
            locked.closed_at = timezone.now()
            locked.save(update_fields=["status", "closed_at"])
    return locked
