from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Beneficiary projects")

    def ready(self) -> None:
        from hubs.accounts import register_invitation_kind
        from refurbishing.actions import register_action
        from refurbishing.destinations import register_project_describer

        from . import forms, organisations, selectors, services

        register_project_describer(selectors.project_destinations)

        register_invitation_kind(
            organisations.BENEFICIARY_INVITATION,
            describe=organisations.beneficiary_describe,
            accept=organisations.beneficiary_invitation_accept,
            landing_url_name="projects:portal",
        )

        register_action("allocate", form_class=forms.AllocateForm, handler=services.handle_allocate)
        register_action("ship", form_class=forms.ShipForm, handler=services.handle_ship)
        register_action("deliver", form_class=forms.DeliverForm, handler=services.handle_deliver)
