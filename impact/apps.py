from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImpactConfig(AppConfig):
    name = "impact"
    verbose_name = _("Public impact")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to the core's domain signal)
