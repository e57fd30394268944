"""Issuing a donor's yearly report: its lines written from the chain of custody, its figures summed from the lines.

What each figure counts, for one donor organisation and one calendar year (``yearly_report_bounds``), reading the
chain-of-custody events up to the last one that existed when the report was issued (``last_event_id``):

- **received**: the donor's devices whose ``receive`` event falls in the year;
- **reused**: whose ``deliver`` event (to a beneficiary project) falls in the year, by the project's country and kind;
  **people reached** is what the delivery confirmed for each device plus every later correction of it
  (``correct_reach``) up to the issue; **kilograms prepared for reuse** is the weight of those devices as recorded
  on the device (measured, declared or a default, the basis named per device); a device without a weight counts as
  of unknown weight, never guessed;
- **recycled**: whose ``recycle`` event falls in the year, with the kilograms on that event (the device's share of
  what its batch weighed, or the weight recorded for it), by downstream vendor and waste stream (a device holding
  several streams counts in each);
- **disposed of**: devices sent to landfill or incineration without material recovery. The platform has no such
  outcome (everything that cannot be reused goes to a recycler), so it is 0 by construction, and the report says so;
- **missing**: marked missing in the year (never arrived from the donor, or never arrived from another hub);
- **CO2e avoided**: per device reused, the public page's factor for its category, and per kilogram recycled the
  public page's e-waste factor (``EmissionFactor``, copied into the report as they read at issue).

A device appears once, on one line, with its reception in the year (if any) and its outcome in the year (if any).
The lines are written in batches while the events are streamed in device order; the figures are then summed by the
database from those very lines, and the report is sealed in the same transaction.
"""

import os
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from common.storage import private_storage
from donations.models import Donor
from donations.services import certificate_number_new
from projects.models import Project
from refurbishing.models import DeviceEvent, DeviceState, WasteStream
from refurbishing.recycling.streams import device_streams_handed_over, streams_ordered

from ..models import EmissionFactor, YearlyReport, YearlyReportLine, YearlyReportXlsx
from .selectors import yearly_report_bounds, yearly_report_current_year, yearly_report_time_zone

BATCH_SIZE = 2000
FIRST_YEAR = 2000
Outcome = YearlyReportLine.Outcome
Basis = YearlyReportLine.WeightBasis

# The event that gives a device its outcome in the year, by action and state reached (a device reaches one).
OUTCOME_EVENTS = (
    ("deliver", DeviceState.DELIVERED, Outcome.REUSED),
    ("recycle", DeviceState.RECYCLED, Outcome.RECYCLED),
    ("mark_missing", DeviceState.MISSING, Outcome.MISSING),
    ("transfer_missing", DeviceState.MISSING, Outcome.MISSING),
)
DEVICE_FIELDS = (
    "device__donation__reference",
    "device__category",
    "device__weee_category",
    "device__manufacturer",
    "device__model",
    "device__serial_number",
    "device__asset_tag",
    "device__weight_kg",
    "device__weight_basis",
    "device__weight_source",
)


class YearlyReportError(Exception):
    """A report that cannot be issued, with a message the donor can act on."""


def _events(*, donor_id: int, last_event_id: int):
    return DeviceEvent.objects.filter(device__donation__donor_id=donor_id, id__lte=last_event_id).order_by(
        "device_id", "id"
    )


def _receptions(*, donor_id: int, last_event_id: int, start, end) -> Iterator[tuple]:
    events = _events(donor_id=donor_id, last_event_id=last_event_id).filter(
        action="receive", to_state=DeviceState.RECEIVED, occurred_at__gte=start, occurred_at__lt=end
    )
    return events.values_list("device_id", "occurred_at", "hub__code", *DEVICE_FIELDS).iterator(chunk_size=BATCH_SIZE)


def _outcomes(*, donor_id: int, last_event_id: int, start, end) -> Iterator[tuple]:
    which = Q()
    for action, state, _outcome in OUTCOME_EVENTS:
        which |= Q(action=action, to_state=state)
    events = _events(donor_id=donor_id, last_event_id=last_event_id).filter(
        which, occurred_at__gte=start, occurred_at__lt=end
    )
    return events.values_list(
        "device_id",
        "occurred_at",
        "hub__code",
        *DEVICE_FIELDS,
        "action",
        "data",
        "device__recycling_item__batch__reference",
        "device__recycling_item__batch__partner__name",
        "device__recycling_item__data_destroyed_by_vendor",
    ).iterator(chunk_size=BATCH_SIZE)


def _reach_corrections(*, donor_id: int, last_event_id: int) -> Iterator[tuple[int, dict]]:
    events = _events(donor_id=donor_id, last_event_id=last_event_id).filter(action="correct_reach")
    return events.values_list("device_id", "data").iterator(chunk_size=BATCH_SIZE)


def _by_device(rows: Iterator[tuple]) -> Iterator[tuple[int, tuple]]:
    """The first row of each device (rows come in device order)."""
    last = None
    for row in rows:
        if row[0] != last:
            last = row[0]
            yield row[0], row


def _merged(receptions: Iterator[tuple], outcomes: Iterator[tuple]) -> Iterator[tuple[int, tuple | None, tuple | None]]:
    """(device id, its reception row or None, its outcome row or None), in device order, from two streams in that
    order."""
    end = (None, None)
    received, outcome = next(receptions, end), next(outcomes, end)
    while received[0] is not None or outcome[0] is not None:
        if outcome[0] is None or (received[0] is not None and received[0] < outcome[0]):
            yield received[0], received[1], None
            received = next(receptions, end)
        elif received[0] is None or outcome[0] < received[0]:
            yield outcome[0], None, outcome[1]
            outcome = next(outcomes, end)
        else:
            yield received[0], received[1], outcome[1]
            received, outcome = next(receptions, end), next(outcomes, end)


class _Corrections:
    """The people added or taken away by corrections, per device, read along in device order."""

    def __init__(self, rows: Iterator[tuple[int, dict]]) -> None:
        self.rows = rows
        self.pending = next(rows, None)

    def delta(self, device_id: int) -> int:
        total = 0
        while self.pending is not None and self.pending[0] <= device_id:
            if self.pending[0] == device_id:
                total += _int((self.pending[1] or {}).get("beneficiaries_delta"))
            self.pending = next(self.rows, None)
        return total


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class _Projects:
    """Each project's country, looked up a batch of ids at a time."""

    def __init__(self) -> None:
        self.country: dict[int, str] = {}

    def load(self, ids: set[int]) -> None:
        unknown = ids - set(self.country)
        if unknown:
            self.country.update(Project.objects.filter(pk__in=unknown).values_list("pk", "country"))


def _factors() -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    factors = list(EmissionFactor.objects.order_by("applies_to"))
    snapshot = [
        {
            "applies_to": f.applies_to,
            "label": f.label,
            "kg_co2e": str(f.kg_co2e),
            "source": f.source,
            "source_url": f.source_url,
        }
        for f in factors
    ]
    return snapshot, {f.applies_to: f.kg_co2e for f in factors}


def _line(
    report: YearlyReport,
    device_id: int,
    received: tuple | None,
    outcome: tuple | None,
    *,
    corrections: _Corrections,
    projects: _Projects,
    factors: dict[str, Decimal],
) -> YearlyReportLine:
    row = outcome or received
    reference, category, weee, maker, model, serial, tag, weight, basis, source = row[3:13]
    line = YearlyReportLine(
        report=report,
        device_id=device_id,
        donation_reference=reference,
        hub_code=row[2],
        category=category,
        weee_category=weee,
        manufacturer=maker,
        model=model,
        serial_number=serial,
        asset_tag=tag,
        received_at=received[1] if received else None,
        weight_kg=weight,
        weight_basis=basis if weight is not None else "",
        weight_source=source if weight is not None else "",
    )
    if outcome is None:
        return line
    action, data, batch, vendor, destroyed = outcome[13:18]
    data = data or {}
    line.outcome_at = outcome[1]
    if action == "deliver":
        line.outcome = Outcome.REUSED
        line.project_kind = data.get("project_kind") or ""
        project_id = _int(data.get("project_id"))
        line.country = projects.country.get(project_id, "")
        line.people = max(0, _int(data.get("beneficiaries")) + corrections.delta(device_id))
        line.co2e_kg = factors.get(category, Decimal(0))
    elif action == "recycle":
        line.outcome = Outcome.RECYCLED
        if data.get("weight_kg") not in (None, ""):
            line.weight_kg = Decimal(str(data["weight_kg"]))
            line.weight_basis = Basis.BATCH if data.get("recycling_batch") else Basis.MEASURED
            line.weight_source = data.get("recycling_batch") or ""
        line.batch_reference = data.get("recycling_batch") or batch or ""
        line.vendor = vendor or ""
        handed_over = device_streams_handed_over(
            category=category, model=model, data_destroyed_by_vendor=bool(destroyed)
        )
        line.streams = " ".join(streams_ordered(handed_over))
        if line.weight_kg is not None:
            line.co2e_kg = line.weight_kg * factors.get(EmissionFactor.EWASTE, Decimal(0))
    else:
        line.outcome = Outcome.MISSING
    return line


LINE_COLUMNS = tuple(field.attname for field in YearlyReportLine._meta.concrete_fields if not field.primary_key)


def _lines_insert(lines: list[YearlyReportLine]) -> None:
    """Write a batch of lines: with PostgreSQL's COPY (a few times faster than an INSERT of as many rows, which
    Django builds value by value), elsewhere with ``bulk_create``. The database's triggers check each row either way."""
    if connection.vendor != "postgresql":
        YearlyReportLine.objects.bulk_create(lines, batch_size=BATCH_SIZE)
        return
    table = connection.ops.quote_name(YearlyReportLine._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in LINE_COLUMNS)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            copy.write_row([getattr(line, column) for column in LINE_COLUMNS])


def _lines_write(report: YearlyReport, *, donor_id: int, factors: dict[str, Decimal]) -> None:
    start, end = yearly_report_bounds(report.year, yearly_report_time_zone())
    cut = {"donor_id": donor_id, "last_event_id": report.last_event_id}
    merged = _merged(
        _by_device(_receptions(**cut, start=start, end=end)), _by_device(_outcomes(**cut, start=start, end=end))
    )
    corrections = _Corrections(_reach_corrections(**cut))
    projects = _Projects()
    batch: list[tuple[int, tuple | None, tuple | None]] = []

    def flush() -> None:
        projects.load(
            {_int((o[14] or {}).get("project_id")) for _d, _r, o in batch if o is not None and o[13] == "deliver"}
        )
        _lines_insert(
            [_line(report, d, r, o, corrections=corrections, projects=projects, factors=factors) for d, r, o in batch]
        )
        batch.clear()

    for item in merged:
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            flush()
    if batch:
        flush()


KG_PLACES = Decimal("0.01")
CO2E_PLACES = Decimal("0.00001")


def _text(value: Decimal | float | None, places: Decimal = KG_PLACES) -> str:
    """A sum as a decimal string to the lines' own places (the lines hold exactly that many, so nothing is rounded
    on PostgreSQL; SQLite sums grouped decimals as floats, and this gives back the exact figure)."""
    return str(Decimal(str(value if value is not None else 0)).quantize(places))


def yearly_report_figures(*, report: YearlyReport) -> dict[str, Any]:
    """Every figure of the report, summed by the database from its lines (Decimal amounts as strings)."""
    lines = YearlyReportLine.objects.filter(report=report)
    reused, recycled = Q(outcome=Outcome.REUSED), Q(outcome=Outcome.RECYCLED)
    received = Q(received_at__isnull=False)
    totals = lines.aggregate(
        lines=Count("id"),
        received=Count("id", filter=received),
        received_kg=Sum("weight_kg", filter=received),
        received_weight_unknown=Count("id", filter=received & Q(weight_kg__isnull=True)),
        received_still_in_preparation=Count("id", filter=received & Q(outcome="")),
        reused=Count("id", filter=reused),
        people_reached=Sum("people", filter=reused),
        prepared_for_reuse_kg=Sum("weight_kg", filter=reused),
        reused_weight_unknown=Count("id", filter=reused & Q(weight_kg__isnull=True)),
        recycled=Count("id", filter=recycled),
        recycled_kg=Sum("weight_kg", filter=recycled),
        recycled_weight_unknown=Count("id", filter=recycled & Q(weight_kg__isnull=True)),
        missing=Count("id", filter=Q(outcome=Outcome.MISSING)),
        co2e_reuse_kg=Sum("co2e_kg", filter=reused),
        co2e_recycling_kg=Sum("co2e_kg", filter=recycled),
    )
    co2e_reuse = Decimal(_text(totals.pop("co2e_reuse_kg"), CO2E_PLACES))
    co2e_recycling = Decimal(_text(totals.pop("co2e_recycling_kg"), CO2E_PLACES))
    figures: dict[str, Any] = {
        key: (_text(value) if key.endswith("_kg") else int(value or 0)) for key, value in totals.items()
    }
    figures["disposed"] = 0
    figures["disposed_kg"] = "0"
    figures["co2e_avoided_by_reuse_kg"] = str(co2e_reuse)
    figures["co2e_avoided_by_recycling_kg"] = str(co2e_recycling)
    figures["co2e_avoided_kg"] = str(co2e_reuse + co2e_recycling)

    def grouped(field: str, condition: Q, **sums) -> list[dict[str, Any]]:
        rows = lines.filter(condition).values(field).annotate(devices=Count("id"), **sums).order_by(field)
        return [
            {key: (_text(value) if key == "kg" else value) for key, value in row.items()} for row in rows.iterator()
        ]

    figures["reused_by_country"] = grouped("country", reused, people=Sum("people"), kg=Sum("weight_kg"))
    figures["reused_by_project_kind"] = grouped("project_kind", reused, people=Sum("people"), kg=Sum("weight_kg"))
    figures["reused_by_category"] = grouped("category", reused, kg=Sum("weight_kg"), co2e=Sum("co2e_kg"))
    for row in figures["reused_by_category"]:
        row["co2e"] = _text(row["co2e"], CO2E_PLACES)
    figures["recycled_by_vendor"] = grouped("vendor", recycled, kg=Sum("weight_kg"))
    by_stream = lines.filter(recycled).aggregate(
        **{
            f"{code}__{what}": aggregate
            for code in WasteStream.values
            for what, aggregate in (
                ("devices", Count("id", filter=Q(streams__contains=code))),
                ("kg", Sum("weight_kg", filter=Q(streams__contains=code))),
            )
        }
    )
    figures["recycled_by_stream"] = [
        {"stream": code, "devices": by_stream[f"{code}__devices"], "kg": _text(by_stream[f"{code}__kg"])}
        for code in WasteStream.values
        if by_stream[f"{code}__devices"]
    ]
    return figures


def yearly_report_issue(*, donor: Donor, year: int, actor: AbstractBaseUser | None, reason: str = "") -> YearlyReport:
    """Issue the donor's report for ``year``, frozen from its lines; a reissue (with a ``reason``: what was
    corrected) supersedes the current report of that year, which stays as it was issued.

    Raises ``YearlyReportError`` (nothing written) for a year that has not begun or before ``FIRST_YEAR``, or when a
    report for the year exists and no reason is given.
    """
    reason = (reason or "").strip()
    current_year = yearly_report_current_year()
    if year is None or year < FIRST_YEAR or year > current_year:
        raise YearlyReportError(
            _("Choose a year from %(first)s to %(last)s.") % {"first": FIRST_YEAR, "last": current_year}
        )
    factors_snapshot, factors = _factors()
    try:
        with transaction.atomic():
            current = (
                YearlyReport.objects.filter(donor=donor, year=year, sealed=True, superseded_by__isnull=True)
                .order_by("-issued_at")
                .first()
            )
            if current is not None and not reason:
                raise YearlyReportError(
                    _(
                        "Report %(number)s for %(year)s was already issued. To issue it again after a correction, "
                        "say what was corrected: the new report supersedes it."
                    )
                    % {"number": current.number, "year": year}
                )
            report = YearlyReport.objects.create(
                number=certificate_number_new(),
                donor=donor,
                donor_name=donor.legal_name,
                year=year,
                time_zone=str(yearly_report_time_zone()),
                issued_at=timezone.now(),
                issued_by=actor,
                supersedes=current,
                reason=reason if current is not None else "",
                last_event_id=DeviceEvent.objects.aggregate(last=Max("id"))["last"] or 0,
                factors=factors_snapshot,
            )
            _lines_write(report, donor_id=donor.pk, factors=factors)
            report.figures = yearly_report_figures(report=report)
            report.sealed = True
            YearlyReport.objects.filter(pk=report.pk).update(figures=report.figures, sealed=True)
    except IntegrityError:
        # Two issues of the same year at the same moment: the database keeps one chain, and this one lost.
        raise YearlyReportError(
            _("A report for %(year)s was being issued at the same moment; reload the page to see it.") % {"year": year}
        ) from None
    return report


# --- A large report's XLSX, built off the request ----------------------------------------------------------------

# Up to this many devices the XLSX is written while the person waits (well under a second); above it a Celery
# task builds it once per language into the private storage, and the person follows its progress.
XLSX_INLINE_MAX_DEVICES = 5000


def yearly_report_xlsx_inline_max() -> int:
    return int(getattr(settings, "YEARLY_REPORT_XLSX_INLINE_MAX_DEVICES", XLSX_INLINE_MAX_DEVICES))


def yearly_report_xlsx_request(
    *, report: YearlyReport, language: str, verify_url: str, actor: AbstractBaseUser | None
) -> YearlyReportXlsx:
    """The report's XLSX in ``language``: the one already asked for, or a new one whose build is queued after
    commit. A failed build is queued again; a finished or running one is left as it is."""
    from impact.tasks import yearly_report_xlsx_build as build_task

    with transaction.atomic():
        try:
            with transaction.atomic():
                job, created = YearlyReportXlsx.objects.get_or_create(
                    report=report,
                    language=language,
                    defaults={"verify_url": verify_url, "requested_by": actor, "total": report.lines.count()},
                )
        except IntegrityError:  # asked for at the same moment by a colleague: theirs is the one
            job, created = YearlyReportXlsx.objects.get(report=report, language=language), False
        if not created and job.status == YearlyReportXlsx.Status.FAILED:
            job.status, job.error, job.done, job.finished_at = YearlyReportXlsx.Status.QUEUED, "", 0, None
            job.save(update_fields=["status", "error", "done", "finished_at"])
            created = True
        if created:
            transaction.on_commit(lambda: build_task.delay(job.pk))
    return job


def yearly_report_xlsx_build(*, xlsx_id: int) -> YearlyReportXlsx:
    """Build the XLSX into the private storage, once: the row is locked for the build, so a second run (a retry,
    a duplicate message, a second worker) waits for the first and then finds it done."""
    from .documents import yearly_report_xlsx  # read when called, so the test can count the builds

    YearlyReportXlsx.objects.filter(pk=xlsx_id, status=YearlyReportXlsx.Status.QUEUED).update(
        status=YearlyReportXlsx.Status.RUNNING
    )
    try:
        with transaction.atomic():
            job = YearlyReportXlsx.objects.select_for_update().select_related("report").get(pk=xlsx_id)
            if job.status == YearlyReportXlsx.Status.DONE:
                return job
            handle, path = tempfile.mkstemp(suffix=".xlsx")
            os.close(handle)
            try:
                with open(path, "wb") as target, translation.override(job.language):
                    yearly_report_xlsx(job.report, target=target, verify_url=job.verify_url)
                job.size = os.path.getsize(path)
                with open(path, "rb") as built:
                    name = f"yearly-reports/{job.report.number}-{job.language}.xlsx"
                    job.file_name = private_storage().save(name, File(built))
            finally:
                os.unlink(path)
            job.status, job.done, job.error = YearlyReportXlsx.Status.DONE, job.total, ""
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "file_name", "size", "done", "error", "finished_at"])
    except Exception as error:
        # Outside the build's transaction, which rolled back: the person's page says it failed.
        failed = {"status": YearlyReportXlsx.Status.FAILED, "error": str(error)[:2000], "finished_at": timezone.now()}
        YearlyReportXlsx.objects.filter(pk=xlsx_id).exclude(status=YearlyReportXlsx.Status.DONE).update(**failed)
        raise
    return job


def yearly_report_xlsx_open(*, job: YearlyReportXlsx):
    """The built XLSX, opened for reading from the private storage (the caller closes it)."""
    storage = private_storage()
    if job.status != YearlyReportXlsx.Status.DONE or not job.file_name or not storage.exists(job.file_name):
        raise YearlyReportError(_("The spreadsheet is not ready yet: wait until it is built."))
    return storage.open(job.file_name, "rb")
