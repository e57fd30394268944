"""Reading donors' asset lists: CSV or XLSX, streamed row by row, headers and values matched to device fields.

Nothing here writes: ``donations.services.donation_import_spreadsheet`` reads rows through ``open_sheet``,
cleans each with ``RowCleaner`` and registers the devices through the core's bulk service.

What a donor's file may look like: whatever Snipe-IT, GLPI, Lansweeper, Intune or eReuse DeviceHub export,
or a list kept by hand; headers in English, French or Dutch, in any order, case, spacing or punctuation;
CSV in UTF-8 (with or without BOM) or Windows-1252, separated by commas, semicolons or tabs.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refurbishing.models import Device

C = Device.Category

# The device fields a spreadsheet column can fill, in the order the template and the mapping form show them.
IMPORT_FIELDS: dict[str, Any] = {
    "serial_number": gettext_lazy("Serial number"),
    "manufacturer": gettext_lazy("Manufacturer"),
    "model": gettext_lazy("Model"),
    "asset_tag": gettext_lazy("Asset tag"),
    "category": gettext_lazy("Category"),
    "cpu": gettext_lazy("CPU"),
    "ram_gb": gettext_lazy("RAM (GB)"),
    "storage_gb": gettext_lazy("Storage (GB)"),
    "storage_kind": gettext_lazy("Storage kind (SSD, HDD, NVMe)"),
    "year": gettext_lazy("Year"),
    "weight_kg": gettext_lazy("Weight (kg)"),
    "has_storage_media": gettext_lazy("Has storage media"),
}
# The template's header row: plain English names every matcher below recognises.
TEMPLATE_HEADERS = [
    "Serial number",
    "Manufacturer",
    "Model",
    "Asset tag",
    "Category",
    "CPU",
    "RAM (GB)",
    "Storage (GB)",
    "Year",
    "Weight (kg)",
]
TEMPLATE_EXAMPLE = ["PF2ABC01", "Lenovo", "ThinkPad T14 Gen 1", "INV-0231", "laptop", "Intel Core i5-10210U", "16"]
TEMPLATE_EXAMPLE += ["256", "2020", "1.5"]

# Whether a device has storage media that may hold the donor's data, unless the donor says otherwise: laptops,
# desktops, servers, tablets and phones do; monitors do not. Printers, network gear and the rest are assumed
# to (many keep a disk or flash with data), so that nothing leaves unwiped by default.
NO_STORAGE_CATEGORIES = frozenset({C.MONITOR.value})


def storage_default(category: str) -> bool:
    """Whether a device of this category has storage media unless the donor says otherwise."""
    return category not in NO_STORAGE_CATEGORIES


class SpreadsheetError(Exception):
    """The file as a whole cannot be read (wrong type, too large, unreadable), with a message for the person."""


@dataclass(frozen=True)
class Problem:
    """One thing to fix before anything is imported: its spreadsheet row, the column's header, and why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


# --- header matching ---------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return re.findall(r"[a-z0-9]+", folded)


# Units a header may carry, e.g. "Mémoire (Mio)", "RAM GB", "Poids (kg)"; the factor turns the value into the
# field's unit, per field.
_RAM_UNITS = {"mb": 1 / 1024, "mib": 1 / 1024, "mio": 1 / 1024, "mo": 1 / 1024, "gb": 1, "gib": 1, "go": 1, "gio": 1}
_STORAGE_UNITS = {"mb": 1 / 1000, "mib": 1 / 1000, "mio": 1 / 1000, "mo": 1 / 1000, "gb": 1, "gib": 1, "go": 1}
_STORAGE_UNITS |= {"gio": 1, "tb": 1000, "tib": 1000, "to": 1000, "tio": 1000}
_WEIGHT_UNITS = {"kg": 1, "g": 1 / 1000, "gr": 1 / 1000, "lb": 0.45359237, "lbs": 0.45359237}
UNITS = {"ram_gb": _RAM_UNITS, "storage_gb": _STORAGE_UNITS, "weight_kg": _WEIGHT_UNITS}
_ALL_UNITS = frozenset(_RAM_UNITS) | frozenset(_STORAGE_UNITS) | frozenset(_WEIGHT_UNITS)
# In a value, not a header (where a lone letter would be a word): "512G", "1T", "512M".
_VALUE_UNITS = {
    "ram_gb": _RAM_UNITS | {"g": 1, "gig": 1, "m": 1 / 1024},
    "storage_gb": _STORAGE_UNITS | {"g": 1, "gig": 1, "t": 1000, "m": 1 / 1000},
}

# What a size may say after its unit, as asset lists write it: the drive's kind ("256 GB SSD", "1TB HDD",
# "512G NVMe", "500 GB SATA HDD") or the memory's ("16GB DDR4", "8 GB SO-DIMM"). A drive's kind is kept
# (allocation asks for SSDs); the memory's words are read past. Any other word makes the value unreadable.
STORAGE_KIND_WORDS = {
    "ssd": "ssd",
    "solidstate": "ssd",
    "nvme": "nvme",
    "hdd": "hdd",
    "hd": "hdd",
    "sshd": "hdd",
    "harddisk": "hdd",
    "harddrive": "hdd",
    "disquedur": "hdd",
    "hardeschijf": "hdd",
    "emmc": "other",
    "flash": "other",
}
_SIZE_WORDS = frozenset(STORAGE_KIND_WORDS) | frozenset(
    {"sata", "m2", "pcie", "disk", "drive", "disque", "schijf", "total", "ram", "memory", "memoire", "geheugen"}
    | {"ddr", "ddr2", "ddr3", "ddr4", "ddr5", "lpddr3", "lpddr4", "lpddr4x", "lpddr5", "lpddr5x"}
    | {"dimm", "sodimm", "so", "udimm", "ecc"}
)
_SIZE_RE = re.compile(r"^\s*([-+]?[0-9][0-9 .,'\u00a0\u202f]*)(.*)$")


def size_kind(words: list[str]) -> str | None:
    """The storage kind named by the words of a value ("SSD", "Hard disk", "NVMe"), or None."""
    joined = "".join(words)
    if joined in STORAGE_KIND_WORDS:
        return STORAGE_KIND_WORDS[joined]
    return next((STORAGE_KIND_WORDS[word] for word in words if word in STORAGE_KIND_WORDS), None)


def parse_size(text: str, *, field: str) -> tuple[Decimal, str | None, str | None]:
    """A size as asset lists write it ("256 GB SSD", "1TB HDD", "512G NVMe", "16GB DDR4", "1,5 To"): the number,
    its unit (a key of the field's units, or None) and the storage kind it names (``MediaType`` value, or None).

    Raises ValueError when it is not a size.
    """
    match = _SIZE_RE.match(text.replace("M.2", "M2").replace("m.2", "m2"))
    if not match:
        raise ValueError(text)
    number, _unit = parse_number(match.group(1), integer_field=True)
    words = _words(match.group(2))
    unit = None
    if words and words[0] in _VALUE_UNITS[field]:
        unit = words.pop(0)
    elif (
        words
        and (glued := re.fullmatch(r"([a-z]+?)(ssd|hdd|nvme)", words[0]))
        and glued.group(1) in _VALUE_UNITS[field]
    ):
        unit, words[0] = glued.group(1), glued.group(2)  # "256GBSSD", as some exports squeeze it
    if any(word not in _SIZE_WORDS for word in words):
        raise ValueError(text)
    return number, unit, size_kind(words)


# Header names, as people and asset managers write them (Snipe-IT, GLPI in English and French, Lansweeper,
# Intune, eReuse DeviceHub), in English, French and Dutch. Compared without case, accents, spaces or
# punctuation, and without a unit ("RAM (MB)" is "ram" in megabytes).
HEADER_ALIASES: dict[str, list[str]] = {
    "serial_number": [
        "serial number",
        "serial",
        "serial no",
        "serial nr",
        "serialnumber",
        "s/n",
        "sn",
        "serial #",
        "device serial number",
        "system serial number",
        "hardware serial",
        "numéro de série",
        "n° de série",
        "no de série",
        "num série",
        "numero serie",
        "série",
        "serienummer",
        "serie nummer",
        "serienr",
        "serial_number",
    ],  # fmt: skip
    "manufacturer": [
        "manufacturer",
        "brand",
        "make",
        "vendor",
        "maker",
        "device manufacturer",
        "system manufacturer",
        "fabricant",
        "marque",
        "constructeur",
        "fabrikant",
        "merk",
        "producent",
    ],  # fmt: skip
    "model": [
        "model",
        "model name",
        "device model",
        "product",
        "product name",
        "modèle",
        "modele",
        "nom du modèle",
        "model naam",
        "modelnaam",
        "type nummer",
    ],  # fmt: skip
    "asset_tag": [
        "asset tag",
        "assettag",
        "tag",
        "asset number",
        "asset no",
        "inventory number",
        "inventory no",
        "inventory tag",
        "numéro d'inventaire",
        "n° d'inventaire",
        "no d'inventaire",
        "inventaire",
        "étiquette",
        "inventarisnummer",
        "inventaris nummer",
        "inventarisnr",
        "activumnummer",
        "asset_tag",
    ],  # fmt: skip
    "category": [
        "category",
        "categories",
        "type",
        "asset type",
        "device type",
        "hardware type",
        "kind",
        "equipment type",
        "catégorie",
        "type d'appareil",
        "type de matériel",
        "categorie",
        "soort",
        "apparaattype",
        "type apparaat",
    ],  # fmt: skip
    "cpu": [
        "cpu",
        "processor",
        "processors",
        "processor model",
        "processor name",
        "cpu model",
        "cpu type",
        "processeur",
        "modèle de processeur",
        "processor type",
    ],  # fmt: skip
    "ram_gb": [
        "ram",
        "memory",
        "total memory",
        "physical memory",
        "installed memory",
        "ram size",
        "memory size",
        "mémoire",
        "mémoire vive",
        "memoire ram",
        "geheugen",
        "werkgeheugen",
        "intern geheugen",
        "ram_gb",
    ],  # fmt: skip
    "storage_gb": [
        "storage",
        "total storage",
        "storage size",
        "storage capacity",
        "data storage size",
        "disk",
        "disk size",
        "disk space",
        "total disk space",
        "hard drive",
        "hard disk",
        "hdd",
        "ssd",
        "hdd size",
        "drive size",
        "capacity",
        "stockage",
        "disque",
        "disque dur",
        "taille du disque",
        "capacité",
        "capacité disque",
        "opslag",
        "schijf",
        "harde schijf",
        "schijfruimte",
        "opslagcapaciteit",
        "storage_gb",
    ],  # fmt: skip
    "year": [
        "year",
        "build year",
        "manufacture year",
        "year of manufacture",
        "purchase date",
        "purchase year",
        "date purchased",
        "année",
        "annee",
        "année de fabrication",
        "date d'achat",
        "jaar",
        "bouwjaar",
        "aankoopdatum",
        "aankoopjaar",
    ],  # fmt: skip
    "storage_kind": [
        "storage kind",
        "storage type",
        "storage media type",
        "disk type",
        "drive type",
        "media type",
        "type de stockage",
        "type de disque",
        "opslagtype",
        "type opslag",
        "schijftype",
        "storage_kind",
    ],  # fmt: skip
    "weight_kg": ["weight", "poids", "gewicht", "weight_kg", "mass", "masse"],
    "has_storage_media": [
        "has storage media",
        "has storage",
        "storage media",
        "data bearing",
        "contains data",
        "support de données",
        "gegevensdrager",
        "has_storage_media",
    ],  # fmt: skip
}


def header_key(text: str) -> tuple[str, str | None]:
    """A header without case, accents, spacing, punctuation or unit, and the unit it named (if any)."""
    words = _words(text)
    unit = next((w for w in words if w in _ALL_UNITS), None)
    return "".join(w for w in words if w not in _ALL_UNITS), unit


_HEADER_INDEX: dict[str, str] = {}
for _field, _aliases in HEADER_ALIASES.items():
    for _alias in _aliases:
        _HEADER_INDEX.setdefault(header_key(_alias)[0], _field)


def match_header(text: str) -> str | None:
    """The device field a column's header names, or None for a column that means nothing here."""
    key, _unit = header_key(text)
    if not key:
        return None
    if key in _HEADER_INDEX:
        return _HEADER_INDEX[key]
    # DeviceHub and some MDMs prefix every column: "Device Serial Number", "Asset Model".
    for prefix in ("device", "asset", "computer", "appareil", "apparaat", "system"):
        if key.startswith(prefix) and key[len(prefix) :] in _HEADER_INDEX:
            return _HEADER_INDEX[key[len(prefix) :]]
    return None


def match_headers(headers: list[str]) -> list[str | None]:
    """The field of each column, a field taken by its first column only (a later one is ignored)."""
    taken: set[str] = set()
    mapping: list[str | None] = []
    for header in headers:
        field_name = match_header(header)
        if field_name in taken:
            field_name = None
        if field_name:
            taken.add(field_name)
        mapping.append(field_name)
    return mapping


# --- category values ---------------------------------------------------------------------------------------

CATEGORY_WORDS: dict[str, list[str]] = {
    C.LAPTOP: [
        "laptop",
        "notebook",
        "portable",
        "ordinateur portable",
        "pc portable",
        "ultrabook",
        "netbook",
        "chromebook",
        "macbook",
        "laptop computer",
        "notebook computer",
        "draagbare computer",
        "draagbare pc",
        "convertible",
        "2 in 1",
        "portatif",
        "portable computer",
        "mobile computer",
    ],  # fmt: skip
    C.DESKTOP: [
        "desktop",
        "pc",
        "computer",
        "ordinateur",
        "desktop computer",
        "desktop pc",
        "ordinateur de bureau",
        "ordinateur fixe",
        "pc de bureau",
        "pc fixe",
        "unite centrale",
        "tour",
        "tower",
        "mini tower",
        "microtower",
        "workstation",
        "station de travail",
        "werkstation",
        "vaste computer",
        "vaste pc",
        "desktopcomputer",
        "all in one",
        "aio",
        "mini pc",
        "sff",
        "small form factor",
        "thin client",
        "bureau",
        "computers",
    ],  # fmt: skip
    C.TABLET: ["tablet", "tablette", "tablet computer", "ipad", "tab", "tablet pc"],
    C.SMARTPHONE: [
        "smartphone",
        "phone",
        "mobile phone",
        "cell phone",
        "cellphone",
        "mobile",
        "gsm",
        "telephone",
        "telephone portable",
        "telephone mobile",
        "mobiele telefoon",
        "telefoon",
        "iphone",
        "handheld",
    ],  # fmt: skip
    C.MONITOR: [
        "monitor",
        "moniteur",
        "ecran",
        "screen",
        "display",
        "beeldscherm",
        "scherm",
        "lcd",
        "tft",
        "flat panel",
        "ecran plat",
        "computer monitor",
        "computerscherm",
    ],  # fmt: skip
    C.SERVER: ["server", "serveur", "rack server", "blade", "nas", "serveur rack"],
    C.NETWORKING: [
        "networking",
        "network",
        "network device",
        "network equipment",
        "switch",
        "router",
        "routeur",
        "firewall",
        "access point",
        "wifi access point",
        "reseau",
        "equipement reseau",
        "netwerk",
        "netwerkapparatuur",
    ],  # fmt: skip
    C.PRINTER: [
        "printer",
        "imprimante",
        "multifunction printer",
        "mfp",
        "multifonction",
        "copier",
        "photocopieur",
        "scanner",
        "multifunctional",
        "kopieerapparaat",
    ],  # fmt: skip
    C.OTHER: ["other", "autre", "autres", "divers", "ander", "andere", "overig", "overige", "misc", "miscellaneous"],
}


def _category_key(text: str) -> str:
    return "".join(_words(text))


_CATEGORY_INDEX: dict[str, str] = {}
for _category, _names in CATEGORY_WORDS.items():
    for _name in [_category, *_names]:
        _CATEGORY_INDEX.setdefault(_category_key(_name), str(_category.value))
for _category, _label in C.choices:
    _CATEGORY_INDEX.setdefault(_category_key(str(_label)), _category)


@functools.lru_cache(maxsize=4096)
def match_category(text: str) -> str | None:
    """The category a value names, in English, French or Dutch, singular or plural; None if unknown."""
    key = _category_key(text)
    if not key:
        return None
    candidates = [key]
    # Plurals: laptops, écrans, moniteurs, ordinateurs portables, beeldschermen, computers, servers.
    for suffix in ("s", "x", "es", "en", "n"):
        if key.endswith(suffix):
            candidates.append(key[: -len(suffix)])
    words = _words(text)
    if len(words) > 1:
        candidates.append("".join(w.rstrip("s") for w in words))
    for candidate in candidates:
        if candidate in _CATEGORY_INDEX:
            return _CATEGORY_INDEX[candidate]
    return None


# When a file has no category (Intune exports none), a well-known model name says what the device is.
_MODEL_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(iphone|galaxy s|galaxy a|pixel \d|nokia|moto g|xperia)\b", re.I), C.SMARTPHONE),
    (re.compile(r"\b(ipad|galaxy tab|surface go|tab [as]\d|mediapad)\b", re.I), C.TABLET),
    (
        re.compile(
            r"\b(thinkpad|latitude|elitebook|probook|macbook|zbook|vostro \d{4}|inspiron \d{2}|xps 1\d|"
            r"travelmate|aspire|ideapad|surface (laptop|book|pro)|chromebook|dynabook|tecra|precision \d{4}m?)\b",
            re.I,
        ),
        C.LAPTOP,
    ),
    (re.compile(r"\b(optiplex|elitedesk|prodesk|thinkcentre|imac|mac mini|veriton|esprimo)\b", re.I), C.DESKTOP),
    (re.compile(r"\b(proliant|poweredge|thinksystem|primergy)\b", re.I), C.SERVER),
    (re.compile(r"\b(prolite|ultrasharp|thinkvision|elitedisplay|p2\d{2}\dh|e2\d{2}\dh)\b", re.I), C.MONITOR),
]


@functools.lru_cache(maxsize=4096)
def category_from_model(model: str) -> str | None:
    for pattern, category in _MODEL_HINTS:
        if pattern.search(model or ""):
            return str(category.value)
    return None


# --- values ------------------------------------------------------------------------------------------------

_PLAIN_DECIMAL_RE = re.compile(r"[0-9]{1,5}(\.[0-9]{1,4})?")
_SEPARATORS_RE = re.compile(r"[ '\u00a0\u202f]")
_NUMBER_RE = re.compile(r"^\s*([-+]?[0-9][0-9 .,'\u00a0\u202f]*)\s*([a-zA-Z]*)\s*$")
_YEAR_RE = re.compile(r"(?<!\d)(19[89]\d|20\d\d|2100)(?!\d)")
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "oui", "o", "vrai", "ja", "j", "waar", "x"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "non", "faux", "nee", "onwaar", "none", "aucun", "geen"})


def parse_number(text: str, *, integer_field: bool) -> tuple[Decimal, str | None]:
    """A number as people type it ("16,384", "1,5", "238.47", "8 GB"), with the unit it carried if any.

    Raises ValueError when it is not a number.
    """
    match = _NUMBER_RE.match(text)
    if not match:
        raise ValueError(text)
    digits, unit = match.group(1), match.group(2).lower() or None
    digits = _SEPARATORS_RE.sub("", digits)
    if "," in digits and "." in digits:
        # The last separator is the decimal one: "1.234,5" and "1,234.5".
        thousands = "." if digits.rfind(",") > digits.rfind(".") else ","
        digits = digits.replace(thousands, "").replace(",", ".")
    elif "," in digits:
        whole, _sep, decimals = digits.rpartition(",")
        # "16,384" in an integer column is sixteen thousand; "1,5" anywhere is one and a half.
        if integer_field and len(decimals) == 3 and digits.count(",") >= 1 and whole not in ("", "0"):
            digits = digits.replace(",", "")
        elif digits.count(",") == 1:
            digits = digits.replace(",", ".")
        else:
            raise ValueError(text)
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")  # "1.234.567": dots as thousands separators
    try:
        number = Decimal(digits)
    except InvalidOperation:
        raise ValueError(text) from None
    if not number.is_finite():
        raise ValueError(text)
    return number, unit


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing ".0", dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


FIELD_MAX_LENGTH = {
    name: Device._meta.get_field(name).max_length
    for name in ("serial_number", "manufacturer", "model", "asset_tag", "cpu")
}
INTEGER_LIMITS = {"ram_gb": 32767, "storage_gb": 2147483647}
WEIGHT_LIMIT = Decimal("99999.99")


@dataclass
class RowCleaner:
    """Turns one spreadsheet row into the fields of a device, or into the problems that stop it."""

    headers: list[str]
    mapping: list[str | None]
    defaults: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns: dict[str, int] = {}
        for index, name in enumerate(self.mapping):
            if name and name not in self.columns:
                self.columns[name] = index
        self.units: dict[str, str | None] = {
            name: header_key(self.headers[index])[1] for name, index in self.columns.items()
        }
        # Per field: its column (or None) and its default, looked up once rather than on every row.
        self._sources = [
            (name, self.columns.get(name), str(self.defaults.get(name, "")).strip()) for name in IMPORT_FIELDS
        ]

    def column_label(self, name: str) -> str:
        if name in self.columns:
            return self.headers[self.columns[name]] or str(IMPORT_FIELDS[name])
        return str(IMPORT_FIELDS[name])

    def raw_value(self, name: str, cells: list[str]) -> str:
        """The cell of the field's column, or the default when the file has none or leaves it empty."""
        value = ""
        index = self.columns.get(name)
        if index is not None and index < len(cells):
            value = cells[index].strip()
        return value or str(self.defaults.get(name, "")).strip()

    def clean(self, row_number: int, cells: list[str]) -> tuple[dict[str, Any] | None, list[Problem]]:
        problems: list[Problem] = []
        width = len(cells)
        raw = {}
        for name, index, default in self._sources:
            value = cells[index].strip() if index is not None and index < width else ""
            raw[name] = value or default

        def problem(name: str, reason: str) -> None:
            problems.append(Problem(row_number, self.column_label(name), reason))

        device: dict[str, Any] = {}
        for name in ("serial_number", "manufacturer", "model", "asset_tag", "cpu"):
            value = raw[name]
            if "  " in value or "\t" in value or "\n" in value:
                value = " ".join(value.split())
            if len(value) > FIELD_MAX_LENGTH[name]:
                problem(name, _("longer than %(max)d characters") % {"max": FIELD_MAX_LENGTH[name]})
            device[name] = value
        if not device["serial_number"]:
            problem("serial_number", _("missing serial number"))
        if not device["manufacturer"]:
            problem("manufacturer", _("missing manufacturer"))

        category = match_category(raw["category"]) if raw["category"] else category_from_model(device["model"])
        if category is None:
            if raw["category"]:
                problem("category", _("unknown category “%(value)s”") % {"value": raw["category"][:40]})
            else:
                problem("category", _("missing category"))
        device["category"] = category or ""

        kind = None
        for name in ("ram_gb", "storage_gb"):
            device[name], named_kind = self._integer(name, raw[name], problem)
            if name == "storage_gb":
                kind = named_kind
        if raw["storage_kind"]:
            kind = size_kind(_words(raw["storage_kind"]))
            if kind is None:
                problem(
                    "storage_kind",
                    _("not a storage kind (SSD, HDD, NVMe): “%(value)s”") % {"value": raw["storage_kind"][:40]},
                )
        device["storage_kind"] = kind or ""
        device["year"] = self._year(raw["year"], problem)
        device["weight_kg"] = self._weight(raw["weight_kg"], problem)

        media = raw["has_storage_media"].lower()
        if not media:
            device["has_storage_media"] = storage_default(category or "")
        elif media in TRUE_WORDS:
            device["has_storage_media"] = True
        elif media in FALSE_WORDS:
            device["has_storage_media"] = False
        else:
            problem("has_storage_media", _("not yes or no: “%(value)s”") % {"value": raw["has_storage_media"][:40]})
        return (None if problems else device), problems

    def _integer(self, name: str, text: str, problem) -> tuple[int | None, str | None]:
        """A size in the field's unit, and the storage kind the value named ("256 GB SSD"), if any."""
        if not text:
            return None, None
        if text.isdigit() and self.units.get(name) in (None, "gb", "go", "gib", "gio"):
            # The common case, a plain whole number in the field's unit: no parsing needed.
            value = int(text)
            if name == "ram_gb" and value >= 512 or name == "storage_gb" and value > 16384:
                value = max(1, round(value / (1024 if name == "ram_gb" else 1000)))
            if value > INTEGER_LIMITS[name]:
                problem(name, _("too large: “%(value)s”") % {"value": text[:40]})
                return None, None
            return value, None
        try:
            number, unit, kind = parse_size(text, field=name)
        except ValueError:
            if name == "ram_gb":
                problem(name, _("unreadable size “%(value)s”: write it as 8 or 8 GB") % {"value": text[:40]})
            else:
                problem(
                    name, _("unreadable size “%(value)s”: write it as 256, 256 GB or 256 GB SSD") % {"value": text[:40]}
                )
            return None, None
        units = _VALUE_UNITS[name]
        unit = unit if unit in units else self.units.get(name)
        if unit in units:
            number = number * Decimal(str(units[unit]))
        elif name == "ram_gb" and number >= 512:
            number = number / 1024  # megabytes, as Lansweeper and WMI report memory without saying so
        elif name == "storage_gb" and number > 16384:
            number = number / 1000  # megabytes
        if number < 0:
            problem(name, _("cannot be negative: “%(value)s”") % {"value": text[:40]})
            return None, None
        value = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        if number > 0 and value == 0:
            value = 1
        if value > INTEGER_LIMITS[name]:
            problem(name, _("too large: “%(value)s”") % {"value": text[:40]})
            return None, None
        return value, kind

    def _year(self, text: str, problem) -> int | None:
        if not text:
            return None
        match = _YEAR_RE.search(text)
        if not match:
            problem("year", _("unreadable year “%(value)s”") % {"value": text[:40]})
            return None
        return int(match.group(1))

    def _weight(self, text: str, problem) -> Decimal | None:
        if not text:
            return None
        if _PLAIN_DECIMAL_RE.fullmatch(text) and self.units.get("weight_kg") in (None, "kg"):
            number = Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if number <= WEIGHT_LIMIT:
                return number
        try:
            number, unit = parse_number(text, integer_field=False)
        except ValueError:
            problem("weight_kg", _("unreadable number “%(value)s”") % {"value": text[:40]})
            return None
        unit = unit if unit in _WEIGHT_UNITS else self.units.get("weight_kg")
        if unit in _WEIGHT_UNITS:
            number = number * Decimal(str(_WEIGHT_UNITS[unit]))
        number = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if number < 0 or number > WEIGHT_LIMIT:
            problem("weight_kg", _("not a weight in kg: “%(value)s”") % {"value": text[:40]})
            return None
        return number


# --- files -------------------------------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"


def NOT_XLSX() -> str:  # noqa: N802  (reads as the message it returns)
    return _("This file is not a valid XLSX workbook. Save it again from your spreadsheet.")


OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


@dataclass
class Sheet:
    """An opened spreadsheet: its header row and a stream of its data rows with their row numbers."""

    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    header_row: int = 1
    delimiter: str = ""
    encoding: str = ""
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in self.closers:
            closer()


def check_size(size: int) -> None:
    limit = settings.IMPORT_MAX_FILE_BYTES
    if size > limit:
        raise SpreadsheetError(
            _("The file is %(size)s MB; the largest file accepted is %(limit)s MB. Split it in several files.")
            % {"size": f"{size / 1e6:.1f}", "limit": f"{limit / 1e6:.0f}"}
        )


def open_sheet(file: IO[bytes], *, filename: str = "") -> Sheet:
    """Open a CSV or XLSX file for streaming; raise SpreadsheetError for a file that cannot be an asset list."""
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    check_size(size)
    head = file.read(8)
    file.seek(0)
    name = filename.lower()
    if head.startswith(XLSX_MAGIC):
        return _open_xlsx(file)
    if head.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise SpreadsheetError(_("This is an old Excel .xls file. Save it as .xlsx or CSV and upload it again."))
    if name and not name.endswith((".csv", ".txt", ".tsv", ".xlsx")):
        raise SpreadsheetError(_("Upload a CSV or XLSX file (this one is “%(name)s”).") % {"name": filename[-60:]})
    if name.endswith(".xlsx"):
        raise SpreadsheetError(NOT_XLSX())
    return _open_csv(file)


def _sniff_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut by the end of the sample
            return "cp1252"
    return "utf-8"


def _sniff_delimiter(first_line: str) -> str:
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _open_csv(file: IO[bytes]) -> Sheet:
    sample = file.read(64 * 1024)
    file.seek(0)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SpreadsheetError(_("This file is not a spreadsheet: upload a CSV or XLSX file."))
    encoding = _sniff_encoding(sample)
    text = io.TextIOWrapper(file, encoding=encoding, newline="")
    text_sample = sample.decode(encoding, errors="ignore").lstrip("\ufeff")
    first_line = next((line for line in text_sample.splitlines() if line.strip()), "")
    delimiter = _sniff_delimiter(first_line)
    reader = csv.reader(text, delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                yield reader.line_num, cells
        except UnicodeDecodeError:
            raise SpreadsheetError(
                _("The file mixes text encodings near line %(line)d. Save it as CSV UTF-8 and upload it again.")
                % {"line": reader.line_num + 1}
            ) from None
        except csv.Error as exc:
            raise SpreadsheetError(
                _("Line %(line)d cannot be read as CSV (%(error)s).") % {"line": reader.line_num, "error": exc}
            ) from None

    stream = records()
    header_row, headers = 1, []
    for number, cells in stream:
        if any(cell.strip() for cell in cells):
            header_row, headers = number, [cell.strip().lstrip("\ufeff") for cell in cells]
            break
    if not headers:
        raise SpreadsheetError(_("The file is empty."))
    data = ((number, cells) for number, cells in stream if any(cell.strip() for cell in cells))
    # Detached on close, so closing the sheet never closes the caller's file.
    return Sheet(
        "csv", headers, data, header_row=header_row, delimiter=delimiter, encoding=encoding, closers=[text.detach]
    )


def _check_zip(file: IO[bytes]) -> None:
    """Refuse a workbook whose parts would expand past the limit, before any part is decompressed."""
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise SpreadsheetError(
            _("This file is not a valid XLSX workbook. Save it again from your spreadsheet.")
        ) from None
    finally:
        file.seek(0)
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SpreadsheetError(NOT_XLSX())
    expanded = sum(info.file_size for info in infos)
    if expanded > settings.IMPORT_MAX_XLSX_EXPANDED_BYTES:
        raise SpreadsheetError(
            _(
                "This workbook expands to %(size)s MB when opened, more than the %(limit)s MB accepted. "
                "Save the asset list alone, as CSV."
            )
            % {
                "size": f"{expanded / 1e6:.0f}",
                "limit": f"{settings.IMPORT_MAX_XLSX_EXPANDED_BYTES / 1e6:.0f}",
            }
        )


def _open_xlsx(file: IO[bytes]) -> Sheet:
    import openpyxl  # imported here: only XLSX uploads pay for it

    _check_zip(file)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook; all mean the same to the person
        raise SpreadsheetError(
            _("This file is not a valid XLSX workbook. Save it again from your spreadsheet.")
        ) from None
    sheet = workbook.worksheets[0]

    def records() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [cell_text(value) for value in values]

    stream = records()
    header_row, headers = 1, []
    for number, cells in stream:
        if any(cells):
            header_row, headers = number, cells
            break
    if not headers:
        workbook.close()
        raise SpreadsheetError(_("The first sheet of this workbook is empty."))
    while headers and not headers[-1]:
        headers.pop()
    data = ((number, cells) for number, cells in stream if any(cells))
    return Sheet("xlsx", headers, data, header_row=header_row, closers=[workbook.close])


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADERS)
    writer.writerow(TEMPLATE_EXAMPLE)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Devices")
    sheet.append(TEMPLATE_HEADERS)
    sheet.append(TEMPLATE_EXAMPLE)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
