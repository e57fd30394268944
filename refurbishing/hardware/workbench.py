"""Read eReuse Workbench hardware reports ("snapshots") into the few facts a hub needs.

Workbench writes two formats, both JSON objects with a ``uuid`` and ``"type": "Snapshot"``:

- **workbench-script** (current): ``data`` holds the raw tool outputs. The system, CPU and RAM come from
  ``data.dmidecode`` (dmidecode's text), parsed with the maintained ``dmiparser`` package into its DMI
  structures: type 1 (System Information: Manufacturer, Product Name, Serial Number), type 3 (Chassis
  Information: Type, and its Serial Number when the system's is a placeholder), type 4 (Processor
  Information: Version, Core Count, for each populated socket) and type 17 (Memory Device: Size, summed).
  The drives come from ``data.smartctl`` (or ``data.smart`` in older runs): the JSON list ``smartctl --json``
  writes, read as smartctl documents it (model_name, serial_number, user_capacity.bytes, rotation_rate,
  device.type/protocol). Older runs without dmidecode or smartctl are read from ``data.lshw`` (its JSON tree).
- **Workbench 11/12** (older): already parsed, ``device`` (type, manufacturer, model, serialNumber, chassis)
  and ``components`` (Processor, RamModule with size in MB, HardDrive/SolidStateDrive with size in MB).

Reports from other machines differ in spelling, padding, missing fields and placeholder serials, and anyone
can post anything: every read here is defensive. ``parse_report`` raises ``NotAWorkbenchReport`` (a sentence
saying why) for a body that is not a report at all; for a report it always returns what it could read, with a
warning for each part it could not.
"""

from __future__ import annotations

import json
import math
import re
import uuid as uuid_module
from dataclasses import asdict, dataclass, field
from typing import Any

from dmiparser import DmiParser

# Longest text kept from a report field (the model fields are this long or longer).
MAX_TEXT = 120
# Past these a figure is a corrupt report, not a machine (and would not fit the device's columns).
MAX_RAM_GB = 32_768
MAX_DRIVE_GB = 10**7


class NotAWorkbenchReport(ValueError):
    """The body is not an eReuse Workbench report; the message says what is missing, for the person sending it."""


class MediaType:
    HDD = "hdd"
    SSD = "ssd"
    NVME = "nvme"
    OTHER = "other"


@dataclass
class ParsedDrive:
    model: str = ""
    serial_number: str = ""
    size_gb: int | None = None
    media_type: str = MediaType.OTHER


@dataclass
class ParsedReport:
    uuid: str
    software: str = ""
    version: str = ""
    report_format: str = ""
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    device_type: str = ""
    category: str = ""
    cpu: str = ""
    cpu_cores: int | None = None
    ram_gb: int | None = None
    drives: list[ParsedDrive] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Serials that firmware fills in when the maker did not: never a machine's identity. Compared without case,
# spaces, dots, dashes and underscores.
PLACEHOLDER_SERIALS = frozenset(
    {
        "TOBEFILLEDBYOEM",
        "FILLBYOEM",
        "DEFAULTSTRING",
        "SYSTEMSERIALNUMBER",
        "CHASSISSERIALNUMBER",
        "BASEBOARDSERIALNUMBER",
        "SERIALNUMBER",
        "NOTSPECIFIED",
        "NOTAPPLICABLE",
        "NOTAVAILABLE",
        "NOTPRESENT",
        "NOTPROVIDED",
        "UNKNOWN",
        "NONE",
        "NULL",
        "NA",
        "OEM",
        "DEFAULT",
        "INVALID",
        "EMPTY",
        "TBD",
        "0123456789",
        "123456789",
        "1234567890",
        "12345678",
        "01234567890",
        "ABCDEFGHIJ",
    }
)
_PLACEHOLDER_STRIP = re.compile(r"[\s._\-/]+")

# Makers' own spellings, as firmware writes them, to the name people use (matched on the start, without case).
MANUFACTURER_NAMES = (
    ("hewlett-packard", "HP"),
    ("hewlett packard", "HP"),
    ("hp ", "HP"),
    ("hpe", "HP"),
    ("dell", "Dell"),
    ("lenovo", "Lenovo"),
    ("ibm", "IBM"),
    ("asustek", "ASUS"),
    ("asus", "ASUS"),
    ("acer", "Acer"),
    ("apple", "Apple"),
    ("toshiba", "Toshiba"),
    ("dynabook", "Dynabook"),
    ("fujitsu", "Fujitsu"),
    ("microsoft", "Microsoft"),
    ("samsung", "Samsung"),
    ("sony", "Sony"),
    ("micro-star", "MSI"),
    ("msi", "MSI"),
    ("gigabyte", "Gigabyte"),
    ("intel", "Intel"),
    ("panasonic", "Panasonic"),
    ("getac", "Getac"),
    ("medion", "Medion"),
    ("huawei", "Huawei"),
    ("xiaomi", "Xiaomi"),
)
PLACEHOLDER_TEXT = frozenset(
    {"TOBEFILLEDBYOEM", "FILLBYOEM", "DEFAULTSTRING", "SYSTEMMANUFACTURER", "SYSTEMPRODUCTNAME", "NOTSPECIFIED"}
    | {"UNKNOWN", "NONE", "NULL", "NA", "OEM", "SYSTEMVERSION", "TYPE1PRODUCTCONFIGID", "EMPTY", "DEFAULT"}
)

# Chassis types (SMBIOS, and Workbench's own device types) to the device categories.
CATEGORY_BY_TYPE = {
    "laptop": "laptop",
    "notebook": "laptop",
    "netbook": "laptop",
    "portable": "laptop",
    "sub notebook": "laptop",
    "subnotebook": "laptop",
    "hand held": "laptop",
    "convertible": "laptop",
    "detachable": "tablet",
    "tablet": "tablet",
    "desktop": "desktop",
    "low profile desktop": "desktop",
    "tower": "desktop",
    "mini tower": "desktop",
    "all in one": "desktop",
    "all-in-one": "desktop",
    "allinone": "desktop",
    "mini pc": "desktop",
    "minipc": "desktop",
    "space-saving": "desktop",
    "lunch box": "desktop",
    "stick pc": "desktop",
    "microtower": "desktop",
    "sff": "desktop",
    "server": "server",
    "rack mount chassis": "server",
    "blade": "server",
    "blade enclosure": "server",
    "multi-system chassis": "server",
    "main server chassis": "server",
    "monitor": "monitor",
    "computermonitor": "monitor",
    "smartphone": "smartphone",
    "mobile": "smartphone",
    "cellphone": "smartphone",
}


# Reading values whatever their type


def text(value: Any) -> str:
    """A report's value as clean text: padding and runs of spaces removed, "" for anything that is not text."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        return str(value)
    if not isinstance(value, str):
        return ""
    cleaned = " ".join(value.replace("\x00", " ").split())
    return cleaned[:MAX_TEXT]


def _squash(value: str) -> str:
    return _PLACEHOLDER_STRIP.sub("", value).upper()


def is_placeholder_serial(value: str) -> bool:
    squashed = _squash(value)
    if not squashed or squashed in PLACEHOLDER_SERIALS:
        return True
    # All zeros, all X, all F, all one character: firmware filler, not an identity.
    if len(set(squashed)) == 1:
        return True
    return squashed.startswith("TOBEFILLED") or squashed.startswith("OEM")


def serial(value: Any) -> str:
    """A serial number as printed on the device, or "" for a missing or placeholder one."""
    cleaned = text(value).strip("/ ")
    return "" if is_placeholder_serial(cleaned) else cleaned[:80]


def _placeholder_text(value: str) -> bool:
    return not value or _squash(value) in PLACEHOLDER_TEXT


def manufacturer_name(value: Any) -> str:
    """The maker's usual name ("Dell Inc." -> "Dell", "Hewlett-Packard" -> "HP"), or the text as written."""
    cleaned = text(value)
    if _placeholder_text(cleaned):
        return ""
    lowered = cleaned.lower() + " "
    for prefix, name in MANUFACTURER_NAMES:
        if lowered.startswith(prefix):
            return name
    return cleaned[:80]


def model_name(value: Any) -> str:
    cleaned = text(value)
    return "" if _placeholder_text(cleaned) else cleaned


def cpu_name(value: Any) -> str:
    """``Intel(R) Core(TM) i7-4600U CPU @ 2.10GHz`` -> ``Intel Core i7-4600U CPU @ 2.10GHz``."""
    cleaned = re.sub(r"\((R|TM|C)\)", "", text(value), flags=re.IGNORECASE)
    cleaned = " ".join(cleaned.split())
    return "" if _placeholder_text(cleaned) else cleaned


def whole_number(value: Any) -> int | None:
    """A count ("2", 2, 2.0) as an int, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**6 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and 0 <= value < 10**6 else None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,6})\s*", value)
        return int(match.group(1)) if match else None
    return None


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) and result >= 0 else None


def gigabytes_from_bytes(value: Any) -> int | None:
    """Drive makers' decimal gigabytes, as printed on the label (256060514304 bytes -> 256)."""
    size = number(value)
    if size is None or size <= 0:
        return None
    gb = round(size / 1e9)
    return gb if 0 < gb < MAX_DRIVE_GB else None


UNIT_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "KIB": 1024, "MIB": 1024**2}
UNIT_BYTES |= {"GIB": 1024**3, "TIB": 1024**4}


def memory_bytes(value: Any) -> int | None:
    """dmidecode's module size ("8 GB", "8192 MB") in bytes; None for "No Module Installed" and the like."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)\s*", text(value), flags=re.IGNORECASE)
    if not match:
        return None
    return int(float(match.group(1)) * UNIT_BYTES[match.group(2).upper()])


def ram_gb_from_bytes(total: float) -> int | None:
    if total <= 0:
        return None
    gb = total / 1024**3
    return max(1, round(gb)) if gb < MAX_RAM_GB else None


def category_for(*types: str) -> str:
    for value in types:
        found = CATEGORY_BY_TYPE.get(text(value).lower())
        if found:
            return found
    return ""


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _maybe_json(value: Any) -> Any:
    """Workbench stores some tools' JSON as a string inside the report."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value


# The report as a whole


def parse_report(report: Any) -> ParsedReport:
    """Read a Workbench report (already decoded JSON); ``NotAWorkbenchReport`` when it is not one."""
    if not isinstance(report, dict):
        raise NotAWorkbenchReport("A Workbench report is a JSON object; this body is not one.")
    if text(report.get("type")).lower() != "snapshot":
        raise NotAWorkbenchReport('A Workbench report has "type": "Snapshot"; this body has none.')
    raw_uuid = report.get("uuid")
    try:
        report_uuid = str(uuid_module.UUID(raw_uuid)) if isinstance(raw_uuid, str) else ""
    except ValueError:
        report_uuid = ""
    if not report_uuid:
        raise NotAWorkbenchReport('A Workbench report has a "uuid"; this one is missing or not a UUID.')

    parsed = ParsedReport(uuid=report_uuid, software=text(report.get("software")), version=text(report.get("version")))
    if isinstance(report.get("data"), dict):
        parsed.report_format = "workbench-script"
        _read_script_format(report["data"], parsed)
    elif isinstance(report.get("device"), dict) or isinstance(report.get("components"), list):
        parsed.report_format = "workbench11"
        _read_workbench11(report, parsed)
    else:
        raise NotAWorkbenchReport(
            'A Workbench report holds either "data" (workbench-script) or "device" and "components" '
            "(Workbench 11/12); this one holds neither."
        )
    parsed.category = category_for(parsed.device_type)
    return parsed


def _guarded(parsed: ParsedReport, part: str, reader, *args) -> None:
    """Run one part's reader; a part that cannot be read becomes a warning, never an error for the caller."""
    try:
        reader(*args)
    except Exception as error:  # noqa: BLE001  (a report can hold anything; the rest of it is still worth reading)
        parsed.warnings.append(f"{part}: could not be read ({type(error).__name__}).")


# workbench-script


def dmi_structures(dmidecode_text: str) -> list[dict[str, Any]]:
    """dmidecode's text as a list of ``{"type": int, "props": {name: first value}}``, via ``dmiparser``.

    dmiparser refuses the whole text at its first malformed line; a report cut short or hand-edited then falls
    back to reading the well-formed structures one by one, so one bad line costs one structure, not the report.
    """
    try:
        sections = DmiParser(dmidecode_text).data
    except Exception:  # noqa: BLE001  (see the docstring: fall back to one structure at a time)
        sections = []
        for chunk in re.split(r"\n(?=Handle 0x)", dmidecode_text):
            try:
                sections.extend(DmiParser(chunk).data)
            except Exception:  # noqa: BLE001,S112  (that one structure is unreadable: skip it)
                continue
    structures = []
    for section in sections:
        section = _dict(section)
        dmi_type = whole_number(_dict(section.get("handle")).get("type"))
        props = {}
        for name, prop in _dict(section.get("props")).items():
            values = _list(_dict(prop).get("values"))
            props[str(name)] = values[0] if values and isinstance(values[0], str) else ""
        structures.append({"type": dmi_type, "props": props})
    return structures


def _read_script_format(data: dict, parsed: ParsedReport) -> None:
    dmidecode = data.get("dmidecode")
    if isinstance(dmidecode, str) and dmidecode.strip():
        _guarded(parsed, "dmidecode", _read_dmidecode, dmidecode, parsed)
    smart = data.get("smartctl", data.get("smart"))
    if smart is not None:
        _guarded(parsed, "smartctl", _read_smartctl, _maybe_json(smart), parsed)
    lshw = _maybe_json(data.get("lshw"))
    if isinstance(lshw, dict | list):
        _guarded(parsed, "lshw", _read_lshw, lshw, parsed)
    if not isinstance(dmidecode, str) and smart is None and lshw is None:
        parsed.warnings.append("data: no dmidecode, smartctl or lshw output to read.")


def _read_dmidecode(dmidecode: str, parsed: ParsedReport) -> None:
    structures = dmi_structures(dmidecode)
    by_type: dict[int | None, list[dict[str, str]]] = {}
    for structure in structures:
        by_type.setdefault(structure["type"], []).append(structure["props"])
    system = (by_type.get(1) or [{}])[0]
    chassis = (by_type.get(3) or [{}])[0]
    baseboard = (by_type.get(2) or [{}])[0]
    parsed.manufacturer = manufacturer_name(system.get("Manufacturer")) or manufacturer_name(
        chassis.get("Manufacturer")
    )
    parsed.model = model_name(system.get("Product Name"))
    parsed.serial_number = (
        serial(system.get("Serial Number"))
        or serial(chassis.get("Serial Number"))
        or serial(baseboard.get("Serial Number"))
    )
    parsed.device_type = text(chassis.get("Type"))

    cores = 0
    for processor in by_type.get(4, []):
        if "unpopulated" in text(processor.get("Status")).lower():
            continue
        if not parsed.cpu:
            parsed.cpu = cpu_name(processor.get("Version"))
        cores += whole_number(processor.get("Core Count")) or 0
    parsed.cpu_cores = cores or None

    total = sum(memory_bytes(module.get("Size")) or 0 for module in by_type.get(17, []))
    parsed.ram_gb = ram_gb_from_bytes(total)


def smartctl_drive(entry: Any) -> ParsedDrive | None:
    """One drive from one ``smartctl --json`` document, or None when smartctl could not read a drive there."""
    entry = _dict(entry)
    device = _dict(entry.get("device"))
    model = model_name(entry.get("model_name")) or " ".join(
        part for part in (text(entry.get("scsi_vendor")), text(entry.get("scsi_product"))) if part
    )
    model = model or " ".join(part for part in (text(entry.get("vendor")), text(entry.get("product"))) if part)
    serial_number = serial(entry.get("serial_number"))
    size = gigabytes_from_bytes(_dict(entry.get("user_capacity")).get("bytes"))
    if size is None:
        size = gigabytes_from_bytes(entry.get("nvme_total_capacity"))
    if size is None:
        namespaces = _list(entry.get("nvme_namespaces"))
        if namespaces:
            size = gigabytes_from_bytes(_dict(_dict(namespaces[0]).get("size")).get("bytes"))
    if not (model or serial_number or size):
        return None  # smartctl said it could not open or identify the device (e.g. a zvol)

    protocol = text(device.get("protocol")).lower()
    kind = text(device.get("type")).lower()
    rotation = entry.get("rotation_rate")
    if protocol == "nvme" or kind == "nvme" or "nvme" in text(device.get("name")).lower():
        media = MediaType.NVME
    elif isinstance(rotation, int) and not isinstance(rotation, bool) and rotation > 0:
        media = MediaType.HDD
    elif rotation == 0 or "ssd" in model.lower() or _dict(entry.get("trim")).get("supported") is True:
        media = MediaType.SSD
    else:
        media = MediaType.OTHER
    return ParsedDrive(model=model, serial_number=serial_number, size_gb=size, media_type=media)


def _read_smartctl(smart: Any, parsed: ParsedReport) -> None:
    entries = smart if isinstance(smart, list) else [smart] if isinstance(smart, dict) else []
    if not entries:
        parsed.warnings.append("smartctl: no list of drives.")
    for entry in entries:
        drive = smartctl_drive(entry)
        if drive is not None:
            parsed.drives.append(drive)


def _lshw_nodes(node: Any, depth: int = 0):
    if depth > 40:
        return
    if isinstance(node, list):
        for child in node:
            yield from _lshw_nodes(child, depth + 1)
    elif isinstance(node, dict):
        yield node
        yield from _lshw_nodes(node.get("children"), depth + 1)


def _read_lshw(lshw: Any, parsed: ParsedReport) -> None:
    """The fallback for older runs: the system from lshw's root node, drives from its "disk" nodes."""
    root = lshw[0] if isinstance(lshw, list) and lshw else lshw
    root = _dict(root)
    if not parsed.manufacturer:
        parsed.manufacturer = manufacturer_name(root.get("vendor"))
    if not parsed.model:
        parsed.model = model_name(root.get("product"))
    if not parsed.serial_number:
        parsed.serial_number = serial(root.get("serial"))
    if not parsed.device_type:
        parsed.device_type = text(_dict(root.get("configuration")).get("chassis"))
    if parsed.drives:
        return  # smartctl already named them, with more certainty about the media
    for node in _lshw_nodes(root):
        if text(node.get("class")) != "disk" or text(node.get("id")).startswith("cdrom"):
            continue
        description = text(node.get("description")).lower()
        if "dvd" in description or "cd-r" in description:
            continue
        model = " ".join(part for part in (text(node.get("vendor")), model_name(node.get("product"))) if part)
        size = gigabytes_from_bytes(node.get("size"))
        serial_number = serial(node.get("serial"))
        if not (model or serial_number or size):
            continue
        logical = text(node.get("logicalname")).lower()
        if "nvme" in logical or "nvme" in description:
            media = MediaType.NVME
        elif "ssd" in model.lower() or "solid" in description:
            media = MediaType.SSD
        else:
            media = MediaType.OTHER
        parsed.drives.append(ParsedDrive(model=model, serial_number=serial_number, size_gb=size, media_type=media))


# Workbench 11/12

WORKBENCH11_DRIVES = {
    "harddrive": MediaType.HDD,
    "solidstatedrive": MediaType.SSD,
    "datastorage": MediaType.OTHER,
}


def _read_workbench11(report: dict, parsed: ParsedReport) -> None:
    device = _dict(report.get("device"))
    parsed.manufacturer = manufacturer_name(device.get("manufacturer"))
    parsed.model = model_name(device.get("model"))
    parsed.serial_number = serial(device.get("serialNumber"))
    parsed.device_type = text(device.get("type"))
    chassis = text(device.get("chassis"))
    components = [component for component in _list(report.get("components")) if isinstance(component, dict)]
    _guarded(parsed, "components", _read_workbench11_components, components, parsed)
    # "Laptop" says more than a chassis of "Netbook"; a bare "Computer" says less than its chassis.
    if not category_for(parsed.device_type) and chassis:
        parsed.device_type = chassis


def _read_workbench11_components(components: list[dict], parsed: ParsedReport) -> None:
    ram_mb = 0.0
    cores = 0
    for component in components:
        kind = text(component.get("type")).lower()
        if kind == "processor":
            if not parsed.cpu:
                parsed.cpu = cpu_name(component.get("model"))
            cores += whole_number(component.get("cores")) or 0
        elif kind == "rammodule":
            ram_mb += number(component.get("size")) or 0
        elif kind in WORKBENCH11_DRIVES:
            media = WORKBENCH11_DRIVES[kind]
            if "nvme" in text(component.get("interface")).lower():
                media = MediaType.NVME
            size_mb = number(component.get("size"))
            size = round(size_mb / 1000) if size_mb else None
            parsed.drives.append(
                ParsedDrive(
                    model=model_name(component.get("model")),
                    serial_number=serial(component.get("serialNumber")),
                    size_gb=size if size and size < MAX_DRIVE_GB else None,
                    media_type=media,
                )
            )
    parsed.cpu_cores = cores or None
    parsed.ram_gb = ram_gb_from_bytes(ram_mb * 1024**2)


# Nesting deeper than this is no Workbench report (theirs nest a few levels; tool outputs travel as strings).
MAX_DEPTH = 64


class ReportTooLarge(NotAWorkbenchReport):
    """The body is over the size cap (``settings.HARDWARE_REPORT_MAX_BYTES``)."""


def _clean(value: Any, depth: int = 0) -> Any:
    """The decoded JSON with what no database stores as text removed: NUL characters and lone surrogates."""
    if depth > MAX_DEPTH:
        raise NotAWorkbenchReport(f"A Workbench report is not nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_clean(str(key), depth + 1): _clean(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, depth + 1) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and Infinity are not JSON a database accepts
    return value


def decode_report(body: bytes, *, max_bytes: int) -> Any:
    """The request body as JSON, ready to store; ``NotAWorkbenchReport`` (or ``ReportTooLarge``) saying why not."""
    if len(body) > max_bytes:
        raise ReportTooLarge(f"A hardware report may be at most {max_bytes} bytes; this one is {len(body)}.")
    if not body.strip():
        raise NotAWorkbenchReport("The body is empty: send the Workbench report's JSON.")
    try:
        decoded = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise NotAWorkbenchReport("The body is not UTF-8 text: send the Workbench report's JSON file.") from error
    except RecursionError as error:
        raise NotAWorkbenchReport(f"A Workbench report is not nested more than {MAX_DEPTH} levels deep.") from error
    except ValueError as error:
        raise NotAWorkbenchReport(f"The body is not valid JSON ({error}).") from error
    try:
        return _clean(decoded)
    except RecursionError as error:
        raise NotAWorkbenchReport(f"A Workbench report is not nested more than {MAX_DEPTH} levels deep.") from error
