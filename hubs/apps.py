from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = _("Hubs and people")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the login receiver)
        from .accounts import register_invitation_kind
        from .services import HUB_INVITATION_KINDS, hub_invitation_accept, hub_invitation_describe

        for role, kind in HUB_INVITATION_KINDS.items():
            register_invitation_kind(
                kind,
                describe=hub_invitation_describe(role),
                accept=hub_invitation_accept(role),
                landing_url_name="admin:index",
            )
