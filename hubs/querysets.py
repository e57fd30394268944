"""``RestrictedQuerySet``: every hub-owned model answers "which of these rows may this user view, act on, manage".

The NetBox pattern: a model declares once, as ``hub_path``, the path from its rows to their hub (``"hub"``,
``"device__hub"``, ``"pk"`` for hubs themselves), and every surface (the admin base class, the API base viewset,
the scan station, the selectors) narrows with ``Model.objects.restrict(user, action)`` instead of writing its own
filter. The rules themselves live in ``hubs.selectors`` (``hub_ids_for_action``).
"""

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view") -> "RestrictedQuerySet":
        """The rows of the hubs where ``user`` may do ``action``: ``view``, ``act`` (move devices) or ``manage``."""
        from .selectors import restrict_to_user_hubs  # selectors import the models, which import this module

        return restrict_to_user_hubs(self, user=user, field=self.model.hub_path, action=action)
