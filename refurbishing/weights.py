"""A device's WEEE category and weight, and where the weight comes from.

The weight a device carries is, in this order: measured at the bench (``measured``), declared by the donor's
list or a person's edit (``declared``), the default for its model (``model``), the default for its device
category (``category``). The defaults and each device category's WEEE category (Directive 2012/19/EU, Annex
III) live in ``refurbishing/data/device_weights.csv``, read once per process; resolving a device asks the
database nothing, so an import of tens of thousands of rows resolves each row in memory.

``device_weight_fill`` is the one resolution every surface shares: registration (pledge forms, spreadsheet
imports, the API, the admin), edits, hardware reports, the measured weight at inspection and the backfill
migration. See docs/weights.md for the mapping and its reasons.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .models import WeeeCategory, WeightBasis

TABLE_PATH = Path(__file__).resolve().parent / "data" / "device_weights.csv"
TABLE_COLUMNS = ("category", "manufacturer", "model", "weee_category", "weight_kg", "source")
# Bases a person or a scale stands behind: a default never replaces them.
KEPT_BASES = frozenset({WeightBasis.MEASURED, WeightBasis.DECLARED})
SOURCE_MAX_LENGTH = 200  # Device.weight_source
# The largest weight a device row holds (DecimalField(max_digits=7, decimal_places=2)).
WEIGHT_MAX = Decimal("99999.99")

# SMBIOS chassis types and Workbench device types (lower case) that settle the WEEE category whatever the
# device's own category says: an all-in-one desktop has a screen over 100 cm² (category 2); rack and blade
# chassis are servers deeper than 50 cm (category 4). Types that say nothing of size ("tower", "desktop") are
# left to the table. See docs/weights.md.
WEEE_CATEGORY_BY_CHASSIS = {
    "all in one": WeeeCategory.SCREENS,
    "all-in-one": WeeeCategory.SCREENS,
    "allinone": WeeeCategory.SCREENS,
    "laptop": WeeeCategory.SCREENS,
    "notebook": WeeeCategory.SCREENS,
    "netbook": WeeeCategory.SCREENS,
    "portable": WeeeCategory.SCREENS,
    "sub notebook": WeeeCategory.SCREENS,
    "subnotebook": WeeeCategory.SCREENS,
    "convertible": WeeeCategory.SCREENS,
    "detachable": WeeeCategory.SCREENS,
    "tablet": WeeeCategory.SCREENS,
    "monitor": WeeeCategory.SCREENS,
    "computermonitor": WeeeCategory.SCREENS,
    "rack mount chassis": WeeeCategory.LARGE,
    "blade": WeeeCategory.LARGE,
    "blade enclosure": WeeeCategory.LARGE,
    "multi-system chassis": WeeeCategory.LARGE,
    "main server chassis": WeeeCategory.LARGE,
    "server": WeeeCategory.LARGE,
    "smartphone": WeeeCategory.SMALL_IT,
    "mobile": WeeeCategory.SMALL_IT,
    "cellphone": WeeeCategory.SMALL_IT,
    "mini pc": WeeeCategory.SMALL_IT,
    "minipc": WeeeCategory.SMALL_IT,
    "stick pc": WeeeCategory.SMALL_IT,
    "lunch box": WeeeCategory.SMALL_IT,
    "sff": WeeeCategory.SMALL_IT,
    "low profile desktop": WeeeCategory.SMALL_IT,
    "space-saving": WeeeCategory.SMALL_IT,
}


class WeightTableError(ValueError):
    """A row of the defaults table is not valid; the message names the line and what is wrong."""


@dataclass(frozen=True)
class WeightDefault:
    """One row of the table: a WEEE category and a typical weight, with the sheet it comes from."""

    category: str
    manufacturer: str
    model: str
    weee_category: int
    weight_kg: Decimal
    source: str

    @property
    def basis(self) -> str:
        return WeightBasis.MODEL_DEFAULT if self.model else WeightBasis.CATEGORY_DEFAULT


def _key(value: str) -> str:
    """Names compared without case, spaces or punctuation: "HP EliteBook 840 G6" = "hp elitebook 840g6"."""
    return "".join(ch for ch in value.casefold() if ch.isalnum())


# Makers' own spellings, as registers and firmware write them, to the name the table uses.
_MANUFACTURER_PREFIXES = (
    ("hewlettpackard", "hp"),
    ("hpinc", "hp"),
    ("hpe", "hp"),
    ("dellinc", "dell"),
    ("lenovo", "lenovo"),
    ("appleinc", "apple"),
)


def _manufacturer_key(value: str) -> str:
    key = _key(value)
    for prefix, name in _MANUFACTURER_PREFIXES:
        if key.startswith(prefix):
            return name
    return key


def _model_key(manufacturer: str, model: str) -> str:
    """A model without the maker's name in front ("HP EliteBook 840 G6" from Intune is "EliteBook 840 G6")."""
    key, maker = _key(model), _manufacturer_key(manufacturer)
    for prefix in {maker, _key(manufacturer)} - {""}:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key


class WeightTable:
    """The defaults table, indexed for lookups in memory."""

    def __init__(self, rows: Iterable[WeightDefault]) -> None:
        self.rows = list(rows)
        self._by_category: dict[str, WeightDefault] = {}
        self._by_model: dict[tuple[str, str, str], WeightDefault] = {}
        for row in self.rows:
            if row.model:
                key = (row.category, _manufacturer_key(row.manufacturer), _model_key(row.manufacturer, row.model))
                self._by_model[key] = row
            else:
                self._by_category[row.category] = row

    def for_category(self, category: str) -> WeightDefault | None:
        return self._by_category.get(category)

    def for_model(self, *, category: str, manufacturer: str, model: str) -> WeightDefault | None:
        if not model:
            return None
        return self._by_model.get((category, _manufacturer_key(manufacturer), _model_key(manufacturer, model)))

    def lookup(self, *, category: str, manufacturer: str, model: str) -> WeightDefault | None:
        """The model's row, else the category's, else None."""
        return self.for_model(category=category, manufacturer=manufacturer, model=model) or self.for_category(category)


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def weight_table_parse(lines: Iterable[str], *, name: str = "device_weights.csv") -> WeightTable:
    """Read the table (CSV with a header; lines starting with # are comments), refusing any invalid row."""
    from .models import Device

    categories = set(Device.Category.values)
    content = [line for line in lines if not line.lstrip().startswith("#")]
    reader = csv.DictReader(content)
    if tuple(reader.fieldnames or ()) != TABLE_COLUMNS:
        raise WeightTableError(f"{name}: the header must be {','.join(TABLE_COLUMNS)}, not {reader.fieldnames}.")
    rows, seen = [], set()
    for number, raw in enumerate(reader, start=2):
        where = f"{name}, data row {number - 1}"
        values = {column: (raw.get(column) or "").strip() for column in TABLE_COLUMNS}
        if values["category"] not in categories:
            raise WeightTableError(f"{where}: unknown device category {values['category']!r}.")
        if bool(values["manufacturer"]) != bool(values["model"]):
            raise WeightTableError(f"{where}: a model row names both manufacturer and model; a category row neither.")
        try:
            weee = int(values["weee_category"])
        except ValueError:
            weee = 0
        if weee not in WeeeCategory.values:
            raise WeightTableError(f"{where}: the WEEE category is a number from 1 to 6.")
        weight = _decimal(values["weight_kg"])
        if weight is None or not Decimal("0") < weight <= WEIGHT_MAX or weight != weight.quantize(Decimal("0.01")):
            raise WeightTableError(f"{where}: the weight is in kg, above 0, with at most two decimals.")
        if not values["source"]:
            raise WeightTableError(f"{where}: every row says where its weight comes from (source).")
        if len(values["source"]) > SOURCE_MAX_LENGTH:
            raise WeightTableError(f"{where}: the source is longer than {SOURCE_MAX_LENGTH} characters.")
        key = (
            values["category"],
            _manufacturer_key(values["manufacturer"]),
            _model_key(values["manufacturer"], values["model"]),
        )
        if key in seen:
            raise WeightTableError(f"{where}: this category, manufacturer and model already have a row.")
        seen.add(key)
        rows.append(
            WeightDefault(
                category=values["category"],
                manufacturer=values["manufacturer"],
                model=values["model"],
                weee_category=weee,
                weight_kg=weight,
                source=values["source"],
            )
        )
    return WeightTable(rows)


@lru_cache(maxsize=1)
def weight_table() -> WeightTable:
    """The table shipped with the code, read once per process (it changes only with a deploy)."""
    with TABLE_PATH.open(encoding="utf-8", newline="") as handle:
        return weight_table_parse(handle, name=TABLE_PATH.name)


def weee_category_for_chassis(chassis: str) -> int | None:
    """The WEEE category a hardware report's chassis or device type settles, or None when it says nothing."""
    return WEEE_CATEGORY_BY_CHASSIS.get(" ".join(str(chassis or "").split()).casefold())


def _weight(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        weight = Decimal(str(value))
    except InvalidOperation:
        return None
    return weight if weight.is_finite() and weight > 0 else None


def weight_values_fill(
    values: MutableMapping[str, Any],
    *,
    table: WeightTable | None = None,
    weee_category: int | None = None,
    recategorise: bool = False,
) -> list[str]:
    """Fill a device's ``weee_category``, ``weight_kg``, ``weight_basis`` and ``weight_source`` in ``values``
    (a device's field values: a row about to be registered, or a device's ``__dict__``); returns the names
    changed.

    A weight with no basis yet was given with the device (the donor's column, the pledge form, the API): it
    becomes ``declared``. A measured or declared weight is kept; otherwise the model's default, else the
    category's, with the table row's source. ``weee_category`` (a hardware report's chassis) settles the WEEE
    category; otherwise one already recorded is kept unless ``recategorise`` (the device's category, make or
    model changed), and an empty one comes from the table.
    """
    table = table or weight_table()
    before = {name: values.get(name) for name in ("weee_category", "weight_kg", "weight_basis", "weight_source")}
    row = table.lookup(
        category=values.get("category") or "",
        manufacturer=values.get("manufacturer") or "",
        model=values.get("model") or "",
    )
    if weee_category is not None:
        values["weee_category"] = int(weee_category)
    elif (recategorise or values.get("weee_category") is None) and row is not None:
        values["weee_category"] = row.weee_category

    weight, basis = _weight(values.get("weight_kg")), values.get("weight_basis") or ""
    if weight is not None and basis in ("", *KEPT_BASES):
        values["weight_kg"] = weight
        values["weight_basis"] = basis or WeightBasis.DECLARED
        if not basis:
            values["weight_source"] = ""
    elif row is not None:
        values["weight_kg"] = row.weight_kg
        values["weight_basis"] = row.basis
        values["weight_source"] = row.source
    else:
        values["weight_kg"] = None
        values["weight_basis"] = ""
        values["weight_source"] = ""
    return [name for name, old in before.items() if values.get(name) != old]


def device_weight_fill(
    *,
    device: Any,
    table: WeightTable | None = None,
    weee_category: int | None = None,
    recategorise: bool = False,
) -> list[str]:
    """``weight_values_fill`` on a device instance (not saved: the caller saves the names returned)."""
    values = {
        name: getattr(device, name)
        for name in ("category", "manufacturer", "model", "weee_category", "weight_kg", "weight_basis", "weight_source")
    }
    changed = weight_values_fill(values, table=table, weee_category=weee_category, recategorise=recategorise)
    for name in changed:
        setattr(device, name, values[name])
    return changed


def weight_measured_values(weight_kg: Any, *, source: str = "") -> dict[str, Any]:
    """The device fields a weight read on a scale sets (``source``: how, when not the device alone)."""
    return {
        "weight_kg": Decimal(str(weight_kg)),
        "weight_basis": WeightBasis.MEASURED,
        "weight_source": source[:SOURCE_MAX_LENGTH],
    }


FILL_FIELDS = ("category", "manufacturer", "model", "weee_category", "weight_kg", "weight_basis", "weight_source")
DEFAULT_BASES = ("", WeightBasis.MODEL_DEFAULT, WeightBasis.CATEGORY_DEFAULT)


def devices_weight_defaults_fill(
    *, device_model: Any = None, table: WeightTable | None = None, chunk: int = 2000
) -> int:
    """Give every device without a WEEE category its category, and every device whose weight is a default (or
    unknown) the table's current default; returns how many devices changed. Measured and declared weights stay.

    For the backfill migration (``device_model`` is then the migration's historical model) and for
    ``manage.py device_weights_fill`` after rows are added to the table. Reads the table once and walks the
    devices by id in chunks, one update per chunk.
    """
    from django.db.models import Q

    if device_model is None:
        from .models import Device as device_model
    table = table or weight_table()
    candidates = device_model._default_manager.filter(Q(weee_category__isnull=True) | Q(weight_basis__in=DEFAULT_BASES))
    count, last_pk = 0, 0
    while True:
        devices = list(candidates.filter(pk__gt=last_pk).order_by("pk").only("pk", *FILL_FIELDS)[:chunk])
        if not devices:
            return count
        changed_devices, changed_fields = [], set()
        for device in devices:
            values = {name: getattr(device, name) for name in FILL_FIELDS}
            changed = weight_values_fill(values, table=table)
            if changed:
                for name in changed:
                    setattr(device, name, values[name])
                changed_devices.append(device)
                changed_fields.update(changed)
        if changed_devices:
            device_model._default_manager.bulk_update(changed_devices, sorted(changed_fields))
            count += len(changed_devices)
        last_pk = devices[-1].pk


def weight_basis_described(device: Any) -> str:
    """The weight and where it comes from, in plain words for a donor ("1.80 kg, weighed at the hub")."""
    if device.weight_kg is None:
        return _("not known yet")
    kg = number_format(device.weight_kg, decimal_pos=2)
    sentences: Mapping[str, str] = {
        WeightBasis.MEASURED: _("%(kg)s kg, weighed at the hub"),
        WeightBasis.DECLARED: _("%(kg)s kg, as declared in your list or a hardware report"),
        WeightBasis.MODEL_DEFAULT: _("about %(kg)s kg, the typical weight of this model"),
        WeightBasis.CATEGORY_DEFAULT: _("about %(kg)s kg, an estimate for this kind of device"),
    }
    return sentences.get(device.weight_basis, _("%(kg)s kg")) % {"kg": kg}
