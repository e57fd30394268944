"""The base of every API viewset: rows scoped with ``restrict(user, action)``, so a new endpoint cannot forget it.

Reads see the rows of the caller's hubs (``view``); a write on one row needs ``write_action`` on its hub (``act``
for hub work, ``manage`` for what only managers do). A row outside ``view`` is a 404; a row the caller may see
but not write is a 403. After a write, ``check_still_in_scope`` confirms the row is still where the caller may
act (inside the view's transaction, so a write that would carry it out of reach is rolled back).
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS

from .selectors import restrict_to_user_hubs, user_may_reach

_UNSET = object()


class HubScopedViewSetMixin:
    """Mix into every ``GenericViewSet``. Each subclass declares ``hub_field``: the path from its rows to their hub,
    or None where a selector scopes rows for several audiences (donors, coordinators and hub staff)."""

    hub_field: Any = _UNSET
    write_action = "act"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.hub_field is _UNSET:
            raise ImproperlyConfigured(f"{cls.__name__} must say how its rows reach their hub: set hub_field.")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if self.hub_field is None:
            return queryset
        return restrict_to_user_hubs(queryset, user=self.request.user, field=self.hub_field, action="view")

    def get_object(self):
        obj = super().get_object()  # through filter_queryset: a 404 outside the caller's view
        if self.request.method in SAFE_METHODS or self.hub_field is None:
            return obj
        if not user_may_reach(self.request.user, obj=obj, field=self.hub_field, action=self.write_action):
            raise PermissionDenied("You may see this, but not change it.")
        return obj

    def check_still_in_scope(self, obj: Any) -> None:
        """Raise 403 unless the row is still where the caller may do ``write_action`` (call it inside the write's
        transaction, so raising rolls the write back)."""
        if self.hub_field is None:
            return
        queryset = type(obj)._default_manager.filter(pk=obj.pk)
        if not restrict_to_user_hubs(
            queryset, user=self.request.user, field=self.hub_field, action=self.write_action
        ).exists():
            raise PermissionDenied("The change would take this out of the hubs you work at; it was not made.")
