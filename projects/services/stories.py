"""Stories from projects: submitted by a coordinator, published only after a manager's review."""

import re

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from projects.models import (
    Project,
    ProjectStory,
    Shipment,
)
from projects.services.common import ProjectError, require_manager
from projects.services.deliveries import project_people_confirmed
from refurbishing.models import Device

_PERSONAL_DATA = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ()-]{7,}\d")


def project_story_submit(
    *, project: Project, author: AbstractBaseUser, text: str, devices_count: int, people_count: int
) -> ProjectStory:
    """A coordinator's short public story: text and counts; shown once a hub manager approves it."""
    if not project.coordinators.filter(pk=author.pk).exists():
        raise ProjectError(_("No such project among yours."), code="not_found")
    text = (text or "").strip()
    if not text:
        message = _("Write a few sentences about what the devices changed.")
        raise ProjectError(message, field_errors={"text": [message]})
    if _PERSONAL_DATA.search(text):
        message = _("A public story cannot hold e-mail addresses or phone numbers.")
        raise ProjectError(message, field_errors={"text": [message]})
    delivered = Shipment.devices.through.objects.filter(
        shipment__project=project, device__state=Device.State.DELIVERED
    ).count()
    if devices_count > delivered:
        message = _("The project has received %(count)s devices so far.") % {"count": delivered}
        raise ProjectError(message, field_errors={"devices_count": [message]})
    people = project_people_confirmed(project=project)
    if people_count > people:
        message = _("The deliveries confirmed so far reach %(count)s people.") % {"count": people}
        raise ProjectError(message, field_errors={"people_count": [message]})
    return ProjectStory.objects.create(
        project=project, author=author, text=text, devices_count=devices_count, people_count=people_count
    )


def project_story_review(*, story: ProjectStory, reviewer: AbstractBaseUser, approve: bool) -> ProjectStory:
    require_manager(user=reviewer, hub_id=story.project.hub_id, what=_("publish a project's story"))
    with transaction.atomic():
        story = ProjectStory.objects.select_for_update().get(pk=story.pk)
        if story.status != ProjectStory.Status.SUBMITTED:
            raise ProjectError(_("This story was reviewed already."), code="conflict")
        story.status = ProjectStory.Status.APPROVED if approve else ProjectStory.Status.DECLINED
        story.reviewed_by = reviewer
        story.save(update_fields=["status", "reviewed_by"])
    return story
