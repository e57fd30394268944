"""The one place that answers "which hubs may this user see and act for"."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from .models import Hub, HubKind, HubMembership, Partner, UserProfile

AnyUser = AbstractBaseUser | AnonymousUser


def hub_list_for_user(*, user: AnyUser) -> QuerySet[Hub]:
    """Hubs the user works at; every hub for a superuser; none for anyone else."""
    if not user.is_authenticated or not user.is_active:
        return Hub.objects.none()
    if user.is_superuser:
        return Hub.objects.all()
    return Hub.objects.filter(memberships__user=user).distinct()


def hub_ids_for_user(*, user: AnyUser) -> set[int] | None:
    """The ids of the user's hubs, or None meaning "all hubs" (superusers)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return None
    # Cache on the user object for the length of one request: admin and API ask several times.
    cached = getattr(user, "_closegap_hub_ids", None)
    if cached is None:
        cached = set(Hub.objects.filter(memberships__user=user).values_list("id", flat=True))
        user._closegap_hub_ids = cached
    return cached


def partner_ids_for_user(*, user: AnyUser) -> set[int]:
    """The ids of the active refurbishment partners the user works for (none for a superuser: they need none)."""
    if not user.is_authenticated or not user.is_active or user.is_superuser:
        return set()
    cached = getattr(user, "_closegap_partner_ids", None)
    if cached is None:
        cached = set(Partner.objects.filter(users=user, active=True).values_list("id", flat=True))
        user._closegap_partner_ids = cached
    return cached


def user_is_partner_staff(*, user: AnyUser) -> bool:
    """Whether the user works for a refurbishment partner (and so may reach the devices of its work orders)."""
    return bool(partner_ids_for_user(user=user))


def partner_list() -> QuerySet[Partner]:
    return Partner.objects.filter(active=True).order_by("name")


def user_is_hub_staff(*, user: AnyUser) -> bool:
    ids = hub_ids_for_user(user=user)
    return ids is None or bool(ids)


def user_can_act_in_hub(*, user: AnyUser, hub_id: int | None) -> bool:
    ids = hub_ids_for_user(user=user)
    if ids is None:
        return True
    return hub_id is not None and hub_id in ids


def user_is_hub_manager(*, user: AnyUser, hub_id: int | None) -> bool:
    """Whether the user manages this hub (reviews applications, overrides allocations); superusers do everywhere."""
    if not user.is_authenticated or not user.is_active or hub_id is None:
        return False
    if user.is_superuser:
        return True
    return HubMembership.objects.filter(user=user, hub_id=hub_id, role=HubMembership.Role.MANAGER).exists()


def hub_ids_managed_by(*, user: AnyUser) -> set[int] | None:
    """The ids of the hubs the user manages, or None meaning "all hubs" (superusers)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return None
    cached = getattr(user, "_closegap_managed_hub_ids", None)
    if cached is None:
        cached = set(
            HubMembership.objects.filter(user=user, role=HubMembership.Role.MANAGER).values_list("hub_id", flat=True)
        )
        user._closegap_managed_hub_ids = cached
    return cached


# What a user may do with a hub's rows (NetBox's ``restrict(user, action)``): every member of a hub may view its rows
# and act on them (move devices); only its managers manage it (its members, its batches, its transfers). A partner's
# users view and act on the rows a model lets partners reach (its ``partner_scope``: the devices of their open work
# orders); which steps they may take on them is the lifecycle's partner guard. Partners never manage.
RESTRICT_ACTIONS = ("view", "act", "manage")


def hub_ids_for_action(*, user: AnyUser, action: str) -> set[int] | None:
    """The ids of the hubs where the user may do ``action``, or None meaning "all hubs" (superusers)."""
    if action in ("view", "act"):
        return hub_ids_for_user(user=user)
    if action == "manage":
        return hub_ids_managed_by(user=user)
    raise ValueError(f"{action!r} is not one of {RESTRICT_ACTIONS}")


def hub_id_of(obj: object, path: str) -> int | None:
    """The id of the hub a row belongs to, following ``path`` (``"hub"``, ``"device__hub"``, ``"pk"``)."""
    if path == "pk":
        return obj.pk
    *through, last = path.split("__")
    for name in through:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None)


def user_may_in_hub(user: AnyUser, *, action: str, hub_id: int | None) -> bool:
    ids = hub_ids_for_action(user=user, action=action)
    return ids is None or (hub_id is not None and hub_id in ids)


def restrict_to_user_hubs(queryset: QuerySet, *, user: AnyUser, field: str = "hub", action: str = "view") -> QuerySet:
    """Narrow a queryset to the rows of the hubs where the user may do ``action`` (``view``, ``act``, ``manage``).

    ``field`` is the path from the row to its hub: ``"hub"``, ``"project__hub"``, or ``"pk"`` for hubs themselves.
    Models built on ``hubs.querysets.RestrictedQuerySet`` declare it once and offer ``.restrict(user, action)``.
    """
    ids = hub_ids_for_action(user=user, action=action)
    if ids is None:
        return queryset
    condition = Q(**{f"{field}__in": ids})
    # A model partners may reach declares ``partner_scope(partner_ids) -> Q`` (``refurbishing`` knows work orders).
    # An account belongs to hubs or to a partner: hub staff are never asked about partners (no extra query).
    partner_scope = getattr(queryset.model, "partner_scope", None)
    if partner_scope is not None and action in ("view", "act") and not ids:
        partner_ids = partner_ids_for_user(user=user)
        if partner_ids:
            condition |= partner_scope(partner_ids)
    return queryset.filter(condition)


def user_may_reach(user: AnyUser, *, obj: object, field: str, action: str) -> bool:
    """Whether ``obj`` is a row where the user may do ``action``: at their hubs, or reached as a partner."""
    if user_may_in_hub(user, action=action, hub_id=hub_id_of(obj, field)):
        return True
    if getattr(type(obj), "partner_scope", None) is None or not user_is_partner_staff(user=user):
        return False
    queryset = type(obj)._default_manager.filter(pk=obj.pk)
    return restrict_to_user_hubs(queryset, user=user, field=field, action=action).exists()


def hub_kind_list() -> QuerySet[HubKind]:
    return HubKind.objects.order_by("name")


def hub_list_taking_company_donations() -> QuerySet[Hub]:
    """The active hubs companies may pledge devices to: those whose kind takes donations from companies."""
    return Hub.objects.filter(active=True, kind__takes_company_donations=True).select_related("kind").order_by("code")


def hub_list_sending_to_projects() -> QuerySet[Hub]:
    """The active hubs projects may apply to and devices go to projects from: those whose kind sends to projects."""
    return Hub.objects.filter(active=True, kind__sends_to_projects=True).select_related("kind").order_by("code")


def hub_performs(hub: Hub, action: str) -> bool:
    """Whether ``hub`` performs the lifecycle action ``action`` (e.g. "sanitise"), as its kind says.

    For the lifecycle to ask before a move; ``hubs`` knows the actions by name only (``LIFECYCLE_STEPS``).
    """
    return hub.kind.performs(action)


class HubSteps(NamedTuple):
    hub: str
    kind: str
    steps: list[str]


# Inside ``hub_steps_remembered``: the hubs whose steps were read, by id.
_remembered_steps: ContextVar[dict[int, "HubSteps | None"] | None] = ContextVar("remembered_steps", default=None)


@contextmanager
def hub_steps_remembered() -> Iterator[None]:
    """Inside the block, each hub's steps are read once: a batch of moves at a few hubs (the offline station's
    sync) asks once per hub, not once per move. The block is short (one request); a kind edited meanwhile counts
    from the next block."""
    if _remembered_steps.get() is not None:
        yield
        return
    token = _remembered_steps.set({})
    try:
        yield
    finally:
        _remembered_steps.reset(token)


def hub_steps(*, hub_id: int) -> HubSteps | None:
    """The hub's code, its kind's name (in the reader's language) and the lifecycle steps it performs, in one
    query (none inside ``hub_steps_remembered`` once read); None for no such hub. For the lifecycle's
    ``hub_performs_step`` guard."""
    remembered = _remembered_steps.get()
    if remembered is not None and hub_id in remembered:
        return remembered[hub_id]
    row = Hub.objects.filter(pk=hub_id).values_list("code", "kind__name", "kind__steps").first()
    steps = None
    if row is not None:
        code, kind_name, performs = row
        steps = HubSteps(hub=code, kind=gettext(kind_name) if kind_name else "", steps=list(performs or []))
    if remembered is not None:
        remembered[hub_id] = steps
    return steps


def user_language(*, user: AnyUser) -> str | None:
    """The language the person chose for themselves (their profile), or None if they never chose one."""
    if not user.is_authenticated:
        return None
    return UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
