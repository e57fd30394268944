"""The donor's device lists and asset reports as CSV and XLSX, safe to open in a spreadsheet.

Every text cell that a spreadsheet would read as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is prefixed with a single quote, so a serial number or model typed by anyone never runs as a
formula on a donor's machine (OWASP, "CSV injection").
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone
from openpyxl import Workbook

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The value as a spreadsheet will show it and never evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if value is None:
        return ""
    return spreadsheet_safe(str(value) if not isinstance(value, int | float) else value)


class _Line:
    """A file-like object whose write returns what it was given, for csv.writer in a streamed response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text line by line (UTF-8 with a byte order mark, so that Excel reads accents right)."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([spreadsheet_safe(str(h)) for h in header])
    for row in rows:
        yield writer.writerow(
            [v.isoformat() if isinstance(v, datetime) else ("" if v is None else spreadsheet_safe(str(v))) for v in row]
        )


def xlsx_bytes(*, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An XLSX workbook with one sheet, written in openpyxl's write-only mode (rows are not kept in memory)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([spreadsheet_safe(str(h)) for h in header])
    for row in rows:
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
