"""Reading asset lists: headers and values matched whatever the tool, language, encoding or separator."""

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from donations.imports.spreadsheet import (
    RowCleaner,
    SpreadsheetError,
    match_category,
    match_header,
    match_headers,
    open_sheet,
    template_csv,
    template_xlsx,
)

SAMPLES = Path(__file__).parent / "samples"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # Snipe-IT
        ("Asset Tag", "asset_tag"),
        ("Serial", "serial_number"),
        ("Category", "category"),
        ("Manufacturer", "manufacturer"),
        ("Model", "model"),
        # GLPI, in English and in French
        ("Serial number", "serial_number"),
        ("Inventory number", "asset_tag"),
        ("Numéro de série", "serial_number"),
        ("Numéro d'inventaire", "asset_tag"),
        ("Fabricant", "manufacturer"),
        ("Modèle", "model"),
        ("Processeur", "cpu"),
        ("Mémoire (Mio)", "ram_gb"),
        # Lansweeper
        ("Serialnumber", "serial_number"),
        ("AssetType", "category"),
        ("Processor", "cpu"),
        ("Memory", "ram_gb"),
        # Intune
        ("Total storage", "storage_gb"),
        # eReuse DeviceHub
        ("Device Serial Number", "serial_number"),
        ("Device Manufacturer", "manufacturer"),
        ("Device Model", "model"),
        ("Device Type", "category"),
        ("RAM (MB)", "ram_gb"),
        ("Data Storage Size (MB)", "storage_gb"),
        # Dutch, and by hand
        ("Serienummer", "serial_number"),
        ("Merk", "manufacturer"),
        ("Werkgeheugen (GB)", "ram_gb"),
        ("Opslag", "storage_gb"),
        ("Bouwjaar", "year"),
        ("Gewicht (kg)", "weight_kg"),
        ("Poids", "weight_kg"),
        ("Année", "year"),
        ("Marque", "manufacturer"),
        ("  SERIAL-NUMBER ", "serial_number"),
        ("serial_number", "serial_number"),
        ("S/N", "serial_number"),
        ("Brand", "manufacturer"),
        ("CPU", "cpu"),
    ],
)
def test_headers_match_whatever_tool_language_case_or_punctuation(header, field):
    assert match_header(header) == field


@pytest.mark.parametrize("header", ["Device ID", "Device name", "Phone number", "Free storage", "Statut", "OS", "Nom"])
def test_columns_that_mean_nothing_here_are_not_matched(header):
    assert match_header(header) is None


def test_a_field_is_taken_by_its_first_column_only():
    assert match_headers(["Serial", "Model", "Serial number", "Modèle"]) == ["serial_number", "model", None, None]


@pytest.mark.parametrize(
    ("value", "category"),
    [
        ("Laptop", "laptop"),
        ("laptops", "laptop"),
        ("Notebook", "laptop"),
        ("Portable", "laptop"),
        ("Ordinateurs portables", "laptop"),
        ("PC", "desktop"),
        ("PCs", "desktop"),
        ("Ordinateur de bureau", "desktop"),
        ("Desktops", "desktop"),
        ("Vaste computer", "desktop"),
        ("Écran", "monitor"),
        ("écrans", "monitor"),
        ("Moniteur", "monitor"),
        ("Beeldscherm", "monitor"),
        ("beeldschermen", "monitor"),
        ("Monitors", "monitor"),
        ("Tablette", "tablet"),
        ("Smartphones", "smartphone"),
        ("GSM", "smartphone"),
        ("Téléphone", "smartphone"),
        ("Serveur", "server"),
        ("Servers", "server"),
        ("Imprimante", "printer"),
        ("Switch", "networking"),
        ("Autre", "other"),
    ],
)
def test_category_values_match_in_three_languages_singular_or_plural(value, category):
    assert match_category(value) == category


def test_an_unknown_category_is_none():
    assert match_category("Frigo") is None


def _sheet_rows(data: bytes, filename: str = "list.csv"):
    sheet = open_sheet(io.BytesIO(data), filename=filename)
    rows = list(sheet.rows)
    sheet.close()
    return sheet, rows


def test_glpi_sample_in_french_with_semicolons_and_memory_in_mib():
    sheet, rows = _sheet_rows((SAMPLES / "glpi-ordinateurs.csv").read_bytes(), "glpi-ordinateurs.csv")
    assert sheet.delimiter == ";"
    mapping = match_headers(sheet.headers)
    cleaner = RowCleaner(headers=sheet.headers, mapping=mapping)
    devices = [cleaner.clean(number, cells) for number, cells in rows]
    assert all(not problems for _device, problems in devices)
    desktop, laptop, monitor = (device for device, _problems in devices)
    assert (desktop["category"], desktop["serial_number"], desktop["ram_gb"]) == ("desktop", "7XK2M53", 8)
    assert (laptop["category"], laptop["manufacturer"], laptop["ram_gb"]) == ("laptop", "Hewlett-Packard", 16)
    assert laptop["asset_tag"] == "INV-2020-0107"
    assert monitor["category"] == "monitor"
    assert monitor["has_storage_media"] is False  # a monitor has no disk to wipe
    assert desktop["has_storage_media"] is True


def test_intune_sample_without_category_column_and_its_phone_number_ignored():
    sheet, rows = _sheet_rows((SAMPLES / "intune-devices.csv").read_bytes(), "intune-devices.csv")
    mapping = match_headers(sheet.headers)
    assert "Phone number" not in [h for h, f in zip(sheet.headers, mapping, strict=True) if f]
    cleaner = RowCleaner(headers=sheet.headers, mapping=mapping)
    devices = [cleaner.clean(number, cells)[0] for number, cells in rows]
    assert [d["category"] for d in devices] == ["laptop", "laptop", "laptop", "smartphone"]
    assert [d["storage_gb"] for d in devices] == [238, 238, 477, 64]
    assert all("+32" not in str(d.values()) for d in devices)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_in_utf8_with_or_without_bom_or_windows_1252_with_any_separator(encoding, bom, separator):
    text = separator.join(["Numéro de série", "Fabricant", "Catégorie", "Modèle"]) + "\r\n"
    text += separator.join(["SN-É1", "Société Générale", "Écran", "Modèle 24”"]) + "\r\n"
    sheet, rows = _sheet_rows(bom + text.encode(encoding))
    assert sheet.delimiter == separator
    assert match_headers(sheet.headers) == ["serial_number", "manufacturer", "category", "model"]
    assert rows == [(2, ["SN-É1", "Société Générale", "Écran", "Modèle 24”"])]


def test_quoted_cells_keep_their_separators():
    sheet, rows = _sheet_rows(b'Serial;Brand;Model\r\nA1;"Dell; Inc.";"Latitude, 5490"\r\n')
    assert rows == [(2, ["A1", "Dell; Inc.", "Latitude, 5490"])]


@pytest.mark.parametrize(
    ("header", "text", "expected"),
    [
        ("RAM (GB)", "8", 8),
        ("RAM", "8 GB", 8),
        ("RAM", "8192", 8),  # megabytes, as Lansweeper reports them
        ("Mémoire (Mio)", "16 384", 16),
        ("Memory (MB)", "16,384", 16),
        ("RAM", "4 Go", 4),
    ],
)
def test_numbers_as_people_type_them(header, text, expected):
    cleaner = RowCleaner(
        headers=["Serial", "Brand", "Type", header], mapping=["serial_number", "manufacturer", "category", "ram_gb"]
    )
    device, problems = cleaner.clean(2, ["S1", "Dell", "laptop", text])
    assert problems == []
    assert device["ram_gb"] == expected


def test_weights_years_and_storage_units():
    headers = ["Serial", "Brand", "Type", "Poids", "Date d'achat", "Disque (To)"]
    mapping = match_headers(headers)
    cleaner = RowCleaner(headers=headers, mapping=mapping)
    device, problems = cleaner.clean(2, ["S1", "Dell", "PC", "1,5", "2019-03-14", "1"])
    assert problems == []
    assert device["weight_kg"] == Decimal("1.50")
    assert device["year"] == 2019
    assert device["storage_gb"] == 1000


@pytest.mark.parametrize(
    ("ram", "storage", "expected"),
    [
        ("8 GB", "256 GB SSD", (8, 256, "ssd")),
        ("16GB DDR4", "1TB HDD", (16, 1000, "hdd")),
        ("8", "512G NVMe", (8, 512, "nvme")),
        ("8192", "500 GB SATA HDD", (8, 500, "hdd")),
        ("4 GB SO-DIMM", "128 GB eMMC", (4, 128, "other")),
        ("8 Go", "1,5 To", (8, 1500, "")),
        ("32 GB", "2 TB M.2 NVMe", (32, 2000, "nvme")),
        ("8", "256GBSSD", (8, 256, "ssd")),
    ],
)
def test_sizes_are_read_with_their_units_and_kinds(ram, storage, expected):
    """As Snipe-IT, GLPI and hand-made lists write them: the unit glued or spaced, the drive's kind after it."""
    cleaner = RowCleaner(
        headers=["Serial", "Brand", "Type", "RAM", "Storage"],
        mapping=["serial_number", "manufacturer", "category", "ram_gb", "storage_gb"],
    )
    device, problems = cleaner.clean(2, ["S1", "Dell", "laptop", ram, storage])
    assert problems == []
    assert (device["ram_gb"], device["storage_gb"], device["storage_kind"]) == expected


def test_a_storage_kind_column_is_read_and_a_size_that_is_not_one_says_how_to_write_it():
    headers = ["Serial", "Brand", "Type", "Storage", "Disk type"]
    cleaner = RowCleaner(headers=headers, mapping=match_headers(headers))
    assert cleaner.mapping[-1] == "storage_kind"
    device, problems = cleaner.clean(2, ["S1", "Dell", "laptop", "256", "Solid state"])
    assert problems == [] and (device["storage_gb"], device["storage_kind"]) == (256, "ssd")
    _device, problems = cleaner.clean(3, ["S2", "Dell", "laptop", "256 GB or 512", "floppy"])
    assert [str(p) for p in problems] == [
        "row 3, column Storage: unreadable size “256 GB or 512”: write it as 256, 256 GB or 256 GB SSD",
        "row 3, column Disk type: not a storage kind (SSD, HDD, NVMe): “floppy”",
    ]


def test_every_kind_of_row_problem_names_row_column_and_reason():
    headers = ["Serial", "Brand", "Type", "RAM", "Year", "Weight"]
    cleaner = RowCleaner(headers=headers, mapping=match_headers(headers))
    _device, problems = cleaner.clean(7, ["", "Dell", "Frigo", "lots", "soon", "heavy"])
    assert [str(p) for p in problems] == [
        "row 7, column Serial: missing serial number",
        "row 7, column Type: unknown category “Frigo”",
        "row 7, column RAM: unreadable size “lots”: write it as 8 or 8 GB",
        "row 7, column Year: unreadable year “soon”",
        "row 7, column Weight: unreadable number “heavy”",
    ]


def test_a_default_fills_a_column_the_file_lacks():
    cleaner = RowCleaner(
        headers=["Serial", "Brand"], mapping=["serial_number", "manufacturer"], defaults={"category": "portable"}
    )
    device, problems = cleaner.clean(2, ["S1", "Dell"])
    assert problems == []
    assert device["category"] == "laptop"


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_is_read_with_numbers_and_dates_as_text():
    import datetime as dt

    data = _xlsx(
        [
            ["Serial Number", "Manufacturer", "Category", "RAM (GB)", "Purchase date"],
            ["X1", "HP", "Laptop", 16, dt.datetime(2020, 5, 1)],
        ]
    )
    sheet, rows = _sheet_rows(data, "assets.xlsx")
    assert sheet.kind == "xlsx"
    assert rows == [(2, ["X1", "HP", "Laptop", "16", "2020-05-01"])]


def test_an_xlsx_that_expands_too_far_is_refused_before_it_is_opened(settings):
    settings.IMPORT_MAX_XLSX_EXPANDED_BYTES = 5_000_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<" + "a" * 10_000_000 + ">")  # compresses to a few KB
    data = out.getvalue()
    assert len(data) < 100_000
    with pytest.raises(SpreadsheetError, match="expands to 10 MB"):
        open_sheet(io.BytesIO(data), filename="bomb.xlsx")


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    with pytest.raises(SpreadsheetError, match="largest file accepted"):
        open_sheet(io.BytesIO(b"Serial\n" + b"x\n" * 1000), filename="big.csv")


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "old Excel .xls"),
        (b"%PDF-1.7\n", "list.pdf", "Upload a CSV or XLSX file"),
        (b"PK\x03\x04 not really a zip", "list.xlsx", "not a valid XLSX"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "list.csv", "not a spreadsheet"),
        (b"", "empty.csv", "empty"),
    ],
)
def test_wrong_types_get_a_clear_error(data, filename, message):
    with pytest.raises(SpreadsheetError, match=message):
        open_sheet(io.BytesIO(data), filename=filename)


def test_the_templates_read_back_as_every_field():
    for data, name in [(template_csv(), "template.csv"), (template_xlsx(), "template.xlsx")]:
        sheet, rows = _sheet_rows(data, name)
        mapping = match_headers(sheet.headers)
        assert None not in mapping
        device, problems = RowCleaner(headers=sheet.headers, mapping=mapping).clean(*rows[0])
        assert problems == []
        assert device["category"] == "laptop"
