"""The refurbishing app's models, one module per part: devices and their records (the lifecycle core),
hardware reports and drives, e-waste batches, transfers, bulk jobs. Everything is re-exported here, so
`from refurbishing.models import Device` names the model wherever it lives, and app_label stays `refurbishing`."""

from .bulk import (  # noqa: F401
    BulkJob,
    HubWeeklyThroughput,
)
from .devices import (  # noqa: F401
    LABEL_CODE_ALPHABET,
    LABEL_CODE_LENGTH,
    ConfigurationRecord,
    Device,
    DeviceEvent,
    DeviceQuerySet,
    DeviceState,
    DeviceStateField,
    InspectionRecord,
    MediaType,
    ProtectedStateError,
    SanitisationRecord,
    WeeeCategory,
    WeightBasis,
    label_code_new,
    label_codes_new,
)
from .hardware import (  # noqa: F401
    Drive,
    DriveSanitisation,
    Snapshot,
)
from .recycling import (  # noqa: F401
    RecyclingBatch,
    RecyclingBatchDevice,
    RecyclingPartner,
    VendorCertificate,
    WasteStream,
    validate_waste_streams,
)
from .sampling import (  # noqa: F401
    WipeSample,
    WipeSampleItem,
)
from .sync import SyncedMove  # noqa: F401
from .transfers import (  # noqa: F401
    Transfer,
    TransferDevice,
)
from .work_orders import (  # noqa: F401
    WorkOrder,
    validate_partner_steps,
)
