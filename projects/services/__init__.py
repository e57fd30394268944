"""The beneficiary side of the lifecycle, through the core's service, by sub-domain.

``applications`` (projects apply for devices), ``reviews`` (a hub manager decides), ``allocation``,
``shipments``, ``deliveries`` (with corrections), ``stories``, and ``handlers`` for the device-level actions;
``common`` holds the one error they raise. Callers import from ``projects.services``.
"""

from projects.services.allocation import (
    project_allocate_device,
    request_allocate,
    request_allocate_suggested,
)
from projects.services.applications import (
    REQUEST_FIELDS,
    project_apply,
    project_coordinator_add,
    project_create,
    project_requests_add,
    project_resubmit,
)
from projects.services.common import (
    ProjectError,
)
from projects.services.deliveries import (
    REACH_TOLERANCE,
    delivery_confirm,
    delivery_correct,
    delivery_people_current,
    delivery_reach_bound,
    project_people_confirmed,
    shipment_deliver,
)
from projects.services.handlers import (
    handle_allocate,
    handle_deliver,
    handle_ship,
)
from projects.services.reviews import (
    project_review,
    project_review_notify_send,
)
from projects.services.shipments import (
    shipment_add_devices,
    shipment_create,
    shipment_set_carrier,
    shipment_ship,
)
from projects.services.stories import (
    project_story_review,
    project_story_submit,
)

__all__ = [
    "ProjectError",
    "REACH_TOLERANCE",
    "REQUEST_FIELDS",
    "delivery_confirm",
    "delivery_correct",
    "delivery_people_current",
    "delivery_reach_bound",
    "handle_allocate",
    "handle_deliver",
    "handle_ship",
    "project_allocate_device",
    "project_apply",
    "project_coordinator_add",
    "project_create",
    "project_people_confirmed",
    "project_requests_add",
    "project_resubmit",
    "project_review",
    "project_review_notify_send",
    "project_story_review",
    "project_story_submit",
    "request_allocate",
    "request_allocate_suggested",
    "shipment_add_devices",
    "shipment_create",
    "shipment_deliver",
    "shipment_set_carrier",
    "shipment_ship",
]
