"""Targets imported from a CSV or XLSX file, with a report an operator can act on.

Every data row ends in exactly one place: a target, a problem (its line and the reason), or
merged into an earlier row with the same number (the earlier row's values win; the later one
fills only what was empty, and its values that differ are listed with the merge). Nothing is
dropped silently, and a broken row (bad quoting, a stray NUL byte, too many cells) is reported
and the import goes on. Numbers are normalised to E.164 by the customer file's one rule. Pure:
it reads bytes and returns the report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from customer_file.identifiers import InvalidIdentifier, normalize_phone
from tamas.languages import LANGUAGES

# Columns with a meaning of their own; any other column is a field the message may say.
PHONE = "phone"
KNOWN = ("phone", "name", "language", "customer_id", "time_zone")


@dataclass(frozen=True)
class TargetRow:
    line: int
    phone: str
    name: str | None = None
    language: str | None = None
    customer_id: int | None = None
    time_zone: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


class Merged(NamedTuple):
    line: int
    into_line: int
    # The merged row's values that differ from those kept (shown to the operator, not lost).
    differs: dict[str, str]


@dataclass
class ImportReport:
    targets: list[TargetRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    merged: list[Merged] = field(default_factory=list)
    rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "targets": len(self.targets),
            "merged": [merged._asdict() for merged in self.merged],
            "problems": [{"line": p.line, "reason": p.reason} for p in self.problems],
        }


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (not CSV or XLSX, no header, no phone column)."""


def _cell(value: Any) -> str:
    """A cell as text: spreadsheets store 09121234567 as the number 9121234567(.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()  # a spreadsheet's date is a datetime at midnight
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _header(cells: list[str]) -> list[str]:
    names = [cell.strip().lower().replace(" ", "_") for cell in cells]
    if PHONE not in names:
        raise UnreadableFile(f"the first row must name the columns, one of them {PHONE!r}")
    return names


def _target(line: int, header: list[str], cells: list[str]) -> TargetRow:
    """One row as a target; ValueError with the reason when it cannot be one."""
    while cells and not _cell(cells[-1]):
        cells = cells[:-1]
    if len(cells) > len(header):
        raise ValueError(f"has {len(cells)} cells but the header names {len(header)} columns")
    values = {name: _cell(value) for name, value in zip(header, cells, strict=False) if name}
    if not values.get(PHONE):
        raise ValueError("no phone number")
    try:
        phone = normalize_phone(values[PHONE])
    except InvalidIdentifier as error:
        raise ValueError(f"phone {values[PHONE]!r} {error.reason}") from None
    language = values.get("language") or None
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    customer_id = values.get("customer_id") or None
    if customer_id is not None and not customer_id.isdigit():
        raise ValueError(f"customer_id {customer_id!r} is not a whole number")
    zone = values.get("time_zone") or None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone {zone!r} is not a time zone like Europe/Moscow") from None
    return TargetRow(
        line=line,
        phone=phone,
        name=values.get("name") or None,
        language=language,
        customer_id=int(customer_id) if customer_id else None,
        time_zone=zone,
        fields={k: v for k, v in values.items() if k not in KNOWN and v},
    )


def _merge(first: TargetRow, later: TargetRow) -> TargetRow:
    return TargetRow(
        line=first.line,
        phone=first.phone,
        name=first.name or later.name,
        language=first.language or later.language,
        customer_id=first.customer_id or later.customer_id,
        time_zone=first.time_zone or later.time_zone,
        fields={**later.fields, **first.fields},
    )


def _differences(kept: TargetRow, merged: TargetRow) -> dict[str, str]:
    def values(row: TargetRow) -> dict[str, str]:
        own = {name: getattr(row, name) for name in KNOWN if name != PHONE}
        return {k: str(v) for k, v in {**own, **row.fields}.items() if v not in (None, "")}

    kept_values = values(kept)
    return {k: v for k, v in values(merged).items() if kept_values.get(k, v) != v}


def report(rows: Iterable[tuple[int, list[str] | str]]) -> ImportReport:
    """The report over (line, cells) rows, the first being the header; a row given as a text
    is one that could not be read, the text saying why."""
    result = ImportReport()
    header: list[str] | None = None
    by_phone: dict[str, int] = {}
    for line, cells in rows:
        if header is None:
            if isinstance(cells, str):
                raise UnreadableFile(f"line {line}: the header cannot be read: {cells}")
            header = _header(cells)
            continue
        if not isinstance(cells, str) and not any(_cell(cell) for cell in cells):
            continue  # a blank line is no row
        result.rows += 1
        if isinstance(cells, str):
            result.problems.append(Problem(line, cells))
            continue
        try:
            target = _target(line, header, cells)
        except ValueError as error:
            result.problems.append(Problem(line, str(error)))
            continue
        if target.phone in by_phone:
            index = by_phone[target.phone]
            first = result.targets[index]
            result.targets[index] = _merge(first, target)
            result.merged.append(Merged(line, first.line, _differences(first, target)))
        else:
            by_phone[target.phone] = len(result.targets)
            result.targets.append(target)
    if header is None:
        raise UnreadableFile("the file is empty: the first row must name the columns")
    return result


def _decode(data: bytes) -> str:
    # Excel on Persian Windows saves CSV as Windows-1256 unless told UTF-8.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1256", errors="replace")


def csv_rows(data: bytes) -> Iterator[tuple[int, list[str] | str]]:
    """(first line of the row, cells) per CSV row; a row the reader refuses comes as its
    reason, and reading goes on with the next line."""
    text = _decode(data)
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        pass
    reader = csv.reader(io.StringIO(text), dialect, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield start, f"cannot be read as CSV: {error}"
            continue
        yield start, cells


def xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str] | str]]:
    """(row number, cells) of the workbook's first sheet."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is no workbook
        raise UnreadableFile(f"not an XLSX workbook: {error}") from error
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell(value) for value in values]
    finally:
        book.close()


def read(data: bytes, filename: str) -> ImportReport:
    """The report of a CSV or XLSX file (told apart by its name, then by its first bytes)."""
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return report(xlsx_rows(data))
    return report(csv_rows(data))
