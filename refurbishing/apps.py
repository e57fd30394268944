from django.apps import AppConfig


class RefurbishingConfig(AppConfig):
    name = "refurbishing"
    verbose_name = "Devices and refurbishing"
