from django.apps import AppConfig


class ImpactConfig(AppConfig):
    name = "impact"
    verbose_name = "Public impact"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects to the core's domain signal)
