from django.apps import AppConfig


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = "Donors and donations"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to the core's domain signal)
