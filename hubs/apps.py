from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = _("Hubs and people")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the login receiver)
