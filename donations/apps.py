from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donors and donations")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to the core's domain signal)
