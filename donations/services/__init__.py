"""Donations' services, one module per part: accounts (donor sign-up and colleagues), pledges (create, change,
cancel, the status that follows the devices), check_in (a pledge's devices scanned in at the hub), imports (a
donor's spreadsheet, checked then queued), certificates (issued, reissued),
e_resource (commitments, and recycled kilograms allocated to them). Devices are registered through the
core's services. Everything public is re-exported here, so `from donations.services import name` names it."""

from .accounts import (  # noqa: F401
    donor_describe,
    donor_invitation_accept,
    donor_invitation_revoke,
    donor_invite_colleague,
    donor_member_remove,
    donor_sign_up,
    donor_user_may_pledge,
)
from .certificates import (  # noqa: F401
    CertificatePending,
    certificate_number_new,
    certificate_reissue,
    donation_certificate_issue,
    donation_certificate_issue_if_ready,
    donation_recycling_certificate_issue,
)
from .check_in import (  # noqa: F401
    CheckInOutcome,
    CheckInResult,
    CheckInSummary,
    donation_check_in_close,
    donation_check_in_scan,
    donation_check_in_summary,
    donation_for_check_in,
)
from .common import (  # noqa: F401
    CERTIFICATE_PREFIX,
    DONOR_INVITATION,
    DonationError,
    normalise_registration_number,
)
from .e_resource import (  # noqa: F401
    AFRICAN_COUNTRIES,
    EResourceError,
    e_resource_allocate,
    e_resource_allocate_pending,
    e_resource_allocations_mark_counted,
    e_resource_batches_pending,
    e_resource_commitment_create,
    e_resource_kg_per_device,
)
from .evidence import (  # noqa: F401
    EVIDENCE_MAX_DAYS,
    evidence_archive_build,
    evidence_archive_download_name,
    evidence_archive_for_user,
    evidence_archive_open,
    evidence_archive_start,
)
from .imports import (  # noqa: F401
    EXISTING_CHECK_CHUNK,
    PROBLEMS_KEPT,
    PROGRESS_EVERY,
    PROGRESS_KEY,
    PROGRESS_SECONDS,
    ImportOutcome,
    donation_import_spreadsheet,
    spreadsheet_import_check,
    spreadsheet_import_create,
    spreadsheet_import_progress,
    spreadsheet_import_queue,
    spreadsheet_import_run,
    spreadsheet_read_headers,
)
from .pledges import (  # noqa: F401
    EDITABLE_PLEDGE_FIELDS,
    check_editable,
    donation_cancel,
    donation_change_record,
    donation_create,
    donation_is_editable,
    donation_pledge,
    donation_sync_status,
    donation_update,
    hub_pledge_refusal,
)
