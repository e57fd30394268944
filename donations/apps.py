from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donors and donations")

    def ready(self) -> None:
        from hubs.accounts import register_invitation_kind

        from . import receivers  # noqa: F401  (connects to the core's domain signal)
        from .services import DONOR_INVITATION, donor_describe, donor_invitation_accept

        register_invitation_kind(
            DONOR_INVITATION,
            describe=donor_describe,
            accept=donor_invitation_accept,
            landing_url_name="donations:portal",
        )
