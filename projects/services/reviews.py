"""A hub manager reviews an application (approve, ask for changes, decline) and the applicant is told."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hubs.selectors import user_language
from projects.models import (
    DeviceRequest,
    Project,
    ProjectReview,
)
from projects.services.common import ProjectError, require_manager


def project_review(*, project: Project, reviewer: AbstractBaseUser, decision: str, reason: str = "") -> ProjectReview:
    """A hub manager's decision on an application: approve, ask for changes, or decline with a reason.

    The coordinators are told by e-mail after commit (``projects.tasks.project_review_notify``, idempotent).
    """
    require_manager(user=reviewer, hub_id=project.hub_id, what=_("review its applications"))
    decisions = (Project.Status.APPROVED, Project.Status.CHANGES_REQUESTED, Project.Status.DECLINED)
    if decision not in decisions:
        message = _("Choose approve, ask for changes or decline.")
        raise ProjectError(message, field_errors={"decision": [message]})
    reason = (reason or "").strip()
    if decision != Project.Status.APPROVED and not reason:
        message = _("Say why, so the coordinator knows what to do next.")
        raise ProjectError(message, field_errors={"reason": [message]})
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status != Project.Status.SUBMITTED:
            raise ProjectError(
                _("%(project)s is %(status)s already: someone reviewed it first, or it is waiting for changes.")
                % {"project": project.name, "status": project.get_status_display()},
                code="conflict",
            )
        project.status = decision
        project.review_reason = reason
        project.save(update_fields=["status", "review_reason"])
        if decision == Project.Status.APPROVED:
            project.requests.filter(status=DeviceRequest.Status.OPEN).update(status=DeviceRequest.Status.APPROVED)
        elif decision == Project.Status.DECLINED:
            project.requests.filter(status=DeviceRequest.Status.OPEN).update(status=DeviceRequest.Status.REJECTED)
        review = ProjectReview.objects.create(project=project, decision=decision, reason=reason, reviewer=reviewer)
        transaction.on_commit(lambda: _queue_review_notice(review.pk))
    return review


def _queue_review_notice(review_id: int) -> None:
    from projects.tasks import project_review_notify  # the tasks module imports these services

    project_review_notify.delay(review_id)


def project_review_notify_send(*, review_id: int) -> bool:
    """Tell the coordinators of a reviewed application, once: a second run finds the review already notified."""
    with transaction.atomic():
        review = (
            ProjectReview.objects.select_for_update(of=("self",)).select_related("project").filter(pk=review_id).first()
        )
        if review is None or review.notified_at is not None:
            return False
        project = review.project
        for coordinator in project.coordinators.filter(is_active=True).exclude(email=""):
            with translation.override(user_language(user=coordinator) or settings.LANGUAGE_CODE):
                subject = _("Your application for %(project)s: %(status)s") % {
                    "project": project.name,
                    "status": Project.Status(review.decision).label,
                }
                body = _("The hub reviewed your application for %(project)s. Decision: %(status)s.") % {
                    "project": project.name,
                    "status": Project.Status(review.decision).label,
                }
                if review.reason:
                    body += "\n\n" + _("Reason: %(reason)s") % {"reason": review.reason}
                send_mail(subject, body, None, [coordinator.email])
        review.notified_at = timezone.now()
        review.save(update_fields=["notified_at"])
    return True
