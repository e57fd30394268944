from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefurbishingConfig(AppConfig):
    name = "refurbishing"
    verbose_name = _("Devices and refurbishing")
