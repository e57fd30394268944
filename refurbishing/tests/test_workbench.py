"""Reading eReuse Workbench hardware reports: both real formats, placeholders, spellings and broken input."""

import copy
import json

import pytest

from refurbishing.hardware.workbench import (
    NotAWorkbenchReport,
    ReportTooLarge,
    decode_report,
    dmi_structures,
    is_placeholder_serial,
    manufacturer_name,
    parse_report,
    serial,
)
from refurbishing.tests.workbench_reports import mutations, sample


@pytest.fixture
def script_report() -> dict:
    return sample("snapshot_workbench-script.json")


@pytest.fixture
def wb11_report() -> dict:
    return sample("snapshot-workbench11.json")


def test_workbench_script_report_reads_system_cpu_ram_and_drives(script_report):
    parsed = parse_report(script_report)
    assert parsed.uuid == "41858da1-5a7c-47a5-b5d2-f1a666a99ed5"
    assert parsed.report_format == "workbench-script"
    # dmidecode type 1: "Dell Inc." is Dell; the chassis (type 3) says Laptop.
    assert (parsed.manufacturer, parsed.model, parsed.serial_number) == ("Dell", "Latitude E7240", "5CQ6VY1")
    assert (parsed.device_type, parsed.category) == ("Laptop", "laptop")
    # dmidecode type 4, with the (R)/(TM) marks dropped; Core Count 2.
    assert parsed.cpu == "Intel Core i7-4600U CPU @ 2.10GHz"
    assert parsed.cpu_cores == 2
    # Two 8 GB modules (type 17).
    assert parsed.ram_gb == 16
    # smartctl's JSON: two SATA SSDs (rotation_rate 0); /dev/zd0, which smartctl could not identify, is no drive.
    assert [(d.model, d.serial_number, d.size_gb, d.media_type) for d in parsed.drives] == [
        ("LITEONIT LMT-256M6M mSATA 256GB", "TW0XXM305508539G1361", 256, "ssd"),
        ("Samsung SSD 850 EVO mSATA 500GB", "S33HNX0J203755R", 500, "ssd"),
    ]
    assert parsed.warnings == []


def test_workbench11_report_reads_device_and_components(wb11_report):
    parsed = parse_report(wb11_report)
    assert parsed.uuid == "7928afeb-e6a4-464a-a842-0c3de0d01677"
    assert parsed.report_format == "workbench11"
    assert (parsed.manufacturer, parsed.model, parsed.serial_number) == ("HP", "Hp Probook 650 G1", "CNU406CLGR")
    assert (parsed.device_type, parsed.category) == ("Laptop", "laptop")
    assert parsed.cpu == "Intel Core I5-4200m Cpu @ 2.50ghz"
    assert parsed.cpu_cores == 2
    assert parsed.ram_gb == 4  # one 4096 MB module
    assert [(d.model, d.serial_number, d.size_gb, d.media_type) for d in parsed.drives] == [
        ("Emtec X150 120gb", "LDS645R002202", 120, "ssd")
    ]


@pytest.mark.parametrize(
    "value",
    [
        "To Be Filled By O.E.M.",
        "To be filled by O.E.M.",
        "Default string",
        "0123456789",
        "System Serial Number",
        "00000000",
        "000000000000",
        "Not Specified",
        "  ",
        "None",
        "XXXXXXXXXX",
        "Chassis Serial Number",
        "FFFFFFFF",
    ],
)
def test_placeholder_serials_are_no_serial(value):
    assert is_placeholder_serial(value)
    assert serial(value) == ""


def test_real_serials_are_kept_without_padding():
    assert serial("  5CQ6VY1 \n") == "5CQ6VY1"
    assert serial("/5CQ6VY1/") == "5CQ6VY1"
    assert serial(12345) == "12345"
    assert not is_placeholder_serial("CNU406CLGR")


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("Dell Inc.", "Dell"),
        ("DELL", "Dell"),
        ("Hewlett-Packard", "HP"),
        ("HP", "HP"),
        ("LENOVO", "Lenovo"),
        ("ASUSTeK COMPUTER INC.", "ASUS"),
        ("TOSHIBA", "Toshiba"),
        ("FUJITSU SIEMENS", "Fujitsu"),
        ("Micro-Star International Co., Ltd.", "MSI"),
        ("System manufacturer", ""),
        ("To Be Filled By O.E.M.", ""),
        ("Framework", "Framework"),
    ],
)
def test_manufacturer_spellings(written, name):
    assert manufacturer_name(written) == name


def test_placeholder_system_serial_falls_back_to_the_chassis(script_report):
    text = script_report["data"]["dmidecode"]
    script_report["data"]["dmidecode"] = text.replace(
        "System Information\n\tManufacturer: Dell Inc.\n\tProduct Name: Latitude E7240\n\tVersion: 00\n"
        "\tSerial Number: 5CQ6VY1",
        "System Information\n\tManufacturer: Dell Inc.\n\tProduct Name: Latitude E7240\n\tVersion: 00\n"
        "\tSerial Number: To Be Filled By O.E.M.",
    )
    assert "To Be Filled By O.E.M." in script_report["data"]["dmidecode"]
    assert parse_report(script_report).serial_number == "5CQ6VY1"  # the chassis (type 3) has it


def test_every_placeholder_gives_no_serial(wb11_report):
    wb11_report["device"]["serialNumber"] = "Default string"
    assert parse_report(wb11_report).serial_number == ""


def test_older_script_runs_with_lshw_and_smart():
    report = {
        "type": "Snapshot",
        "uuid": "0b4a3c1e-8a5e-4b71-9d3a-2a1f9f0b8c11",
        "software": "workbench-script",
        "data": {
            "lshw": json.dumps(
                {
                    "class": "system",
                    "vendor": "LENOVO",
                    "product": "20L5CTO1WW (LENOVO_MT_20L5_BU_Think_FM_ThinkPad T480)",
                    "serial": "  PF1ABCDE  ",
                    "configuration": {"chassis": "notebook"},
                    "children": [
                        {
                            "class": "disk",
                            "id": "disk",
                            "description": "NVMe disk",
                            "product": "SAMSUNG MZVLB512HAJQ-000L7",
                            "serial": "S3TNNX0K123456",
                            "size": 512110190592,
                            "logicalname": "/dev/nvme0n1",
                        }
                    ],
                }
            ),
            "smart": "[]",
        },
    }
    parsed = parse_report(report)
    assert (parsed.manufacturer, parsed.serial_number, parsed.category) == ("Lenovo", "PF1ABCDE", "laptop")
    assert [(d.serial_number, d.size_gb, d.media_type) for d in parsed.drives] == [("S3TNNX0K123456", 512, "nvme")]


def test_smartctl_nvme_and_spinning_disks(script_report):
    drives = [
        {
            "device": {"name": "/dev/nvme0", "type": "nvme", "protocol": "NVMe"},
            "model_name": "  WDC PC SN720 SDAPNTW-256G  ",
            "serial_number": "18494D800123",
            "nvme_total_capacity": 256060514304,
        },
        {
            "device": {"name": "/dev/sdb", "type": "sat", "protocol": "ATA"},
            "model_name": "ST500LM021-1KJ152",
            "serial_number": "W62ABCDE",
            "user_capacity": {"bytes": 500107862016},
            "rotation_rate": 7200,
        },
        {"device": {"name": "/dev/sdc"}, "model_name": "Mystery disk", "serial_number": "To Be Filled By O.E.M."},
    ]
    script_report["data"]["smartctl"] = json.dumps(drives)
    parsed = parse_report(script_report)
    assert [(d.model, d.serial_number, d.size_gb, d.media_type) for d in parsed.drives] == [
        ("WDC PC SN720 SDAPNTW-256G", "18494D800123", 256, "nvme"),
        ("ST500LM021-1KJ152", "W62ABCDE", 500, "hdd"),
        ("Mystery disk", "", None, "other"),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "JSON object"),
        ({"hello": "world"}, '"type": "Snapshot"'),
        ({"type": "Snapshot"}, "uuid"),
        ({"type": "Snapshot", "uuid": "not-a-uuid", "data": {}}, "uuid"),
        ({"type": "Snapshot", "uuid": "7928afeb-e6a4-464a-a842-0c3de0d01677"}, "neither"),
    ],
)
def test_a_body_that_is_no_report_says_why(body, reason):
    with pytest.raises(NotAWorkbenchReport, match=reason):
        parse_report(body)


def test_decode_refuses_oversize_bad_json_and_deep_nesting():
    with pytest.raises(ReportTooLarge):
        decode_report(b"{}" * 100, max_bytes=100)
    with pytest.raises(NotAWorkbenchReport, match="not valid JSON"):
        decode_report(b"{not json", max_bytes=100)
    with pytest.raises(NotAWorkbenchReport, match="not UTF-8"):
        decode_report(b'{"a": "\xff"}', max_bytes=100)
    with pytest.raises(NotAWorkbenchReport, match="nested"):
        decode_report(b"[" * 5000 + b"]" * 5000, max_bytes=100_000)
    with pytest.raises(NotAWorkbenchReport, match="empty"):
        decode_report(b"   ", max_bytes=100)


def test_decode_strips_what_no_database_stores():
    decoded = decode_report(b'{"a": "x\\u0000y", "b": "\\ud800", "c": NaN}', max_bytes=100)
    assert decoded == {"a": "xy", "b": "?", "c": None}


def test_malformed_dmidecode_still_reads_its_wellformed_structures(script_report):
    text = script_report["data"]["dmidecode"]
    broken = text.replace("Handle 0x0042, DMI type 4, 42 bytes", "Handle 0x0042, DMI type 4, broken bytes")
    structures = dmi_structures(broken)
    assert any(s["type"] == 1 and s["props"]["Serial Number"] == "5CQ6VY1" for s in structures)
    script_report["data"]["dmidecode"] = broken
    assert parse_report(script_report).serial_number == "5CQ6VY1"


def _string_mutations(report: dict):
    """The embedded tool outputs cut short, or with lines shuffled: dmidecode text and smartctl JSON."""
    data = report["data"]
    for key in ("dmidecode", "smartctl", "inxi"):
        original = data[key]
        for cut in (0, 1, 17, len(original) // 3, len(original) // 2, len(original) - 3):
            mutated = copy.deepcopy(report)
            mutated["data"][key] = original[:cut]
            yield mutated
        mutated = copy.deepcopy(report)
        mutated["data"][key] = "\n".join(reversed(original.splitlines()))
        yield mutated
        mutated = copy.deepcopy(report)
        mutated["data"][key] = original.replace(":", "")
        yield mutated


def test_no_mutated_report_breaks_the_parser(script_report, wb11_report):
    """Every mutation either parses (with warnings, maybe) or is refused as not a report, never anything else."""
    script_small = copy.deepcopy(script_report)
    script_small["data"]["smartctl"] = json.dumps(json.loads(script_report["data"]["smartctl"])[:1])
    reports = [*mutations(wb11_report), *mutations(script_small), *_string_mutations(script_report)]
    assert len(reports) > 150
    outcomes = {"parsed": 0, "refused": 0}
    for report in reports:
        try:
            parsed = parse_report(report)
        except NotAWorkbenchReport:
            outcomes["refused"] += 1
            continue
        outcomes["parsed"] += 1
        assert isinstance(parsed.serial_number, str) and len(parsed.serial_number) <= 80
        assert parsed.ram_gb is None or isinstance(parsed.ram_gb, int)
        json.dumps(parsed.as_dict())  # storable as it is
    assert outcomes["parsed"] > 100 and outcomes["refused"] > 0


def test_impossible_figures_are_dropped(wb11_report):
    wb11_report["components"] += [{"type": "RamModule", "size": 10**12}, {"type": "HardDrive", "size": 10**15}]
    parsed = parse_report(wb11_report)
    assert parsed.ram_gb is None
    assert parsed.drives[-1].size_gb is None
