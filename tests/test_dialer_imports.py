"""Importing targets from CSV and XLSX: every bad row listed with its line and reason,
duplicates merged, nothing silently dropped, numbers normalised, broken rows never stop it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from dialer.imports import UnreadableFile, read

CSV = (
    "phone,name,language,policy_number\n"  # 1
    "09121234567,Ali,fa,P-1\n"  # 2
    '"0912"broken,Bad,fa,P\n'  # 3: bad quoting
    "۰۹۱۲ ۱۲۳ ۴۵۶۸,Sara,,P-2\n"  # 4: Persian digits and spaces
    "not a number,X,fa,P\n"  # 5
    "0098 912 123 4567,,,P-9\n"  # 6: the same person as line 2
    ",NoPhone,fa,P\n"  # 7
    "\n"  # 8: blank
    "+79161234567,Ivan,ru,P-3,extra\n"  # 9: a cell too many
    "+74951234567,Olga,de,P-4\n"  # 10: unknown language
    "8 495 123 45 67,Olga,ru,P-5\n"  # 11: the Russian way of line 10's number
)


def test_a_csv_with_bad_rows_lists_each_with_its_line_and_reason() -> None:
    report = read(CSV.encode(), "targets.csv")
    problems = {problem.line: problem.reason for problem in report.problems}
    assert set(problems) == {3, 5, 7, 9, 10}
    assert "CSV" in problems[3]
    assert "digits" in problems[5]
    assert problems[7] == "no phone number"
    assert "4 columns" in problems[9]
    assert "language 'de'" in problems[10]


def test_numbers_are_normalised_and_the_same_person_is_merged_into_the_first_row() -> None:
    report = read(CSV.encode(), "targets.csv")
    phones = [target.phone for target in report.targets]
    assert phones == ["+989121234567", "+989121234568", "+74951234567"]
    assert report.merged == [(6, 2, {"policy_number": "P-9"})]
    ali = report.targets[0]
    assert (ali.line, ali.name, ali.language, ali.fields) == (
        2,
        "Ali",
        "fa",
        {"policy_number": "P-1"},
    )


def test_nothing_is_dropped_silently() -> None:
    report = read(CSV.encode(), "targets.csv")
    assert report.rows == len(report.targets) + len(report.problems) + len(report.merged)
    assert report.as_dict()["rows"] == 9  # eleven lines less the header and a blank


def test_a_row_after_a_stray_nul_byte_is_still_imported() -> None:
    data = b"phone,name\n0912\x001234567,Nul\n09121234567,Ali\n"
    report = read(data, "targets.csv")
    assert [t.phone for t in report.targets] == ["+989121234567"]
    assert [p.line for p in report.problems] == [2]


def test_a_semicolon_separated_windows_1256_csv_is_read() -> None:
    data = "phone;name\n09121234567;رضا\n".encode("cp1256")
    assert read(data, "targets.csv").targets[0].name == "رضا"


def test_a_file_without_a_phone_column_is_refused_as_a_whole() -> None:
    with pytest.raises(UnreadableFile, match="phone"):
        read(b"name,mobile\nAli,0912\n", "targets.csv")


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_sheet_is_read_with_its_row_numbers_and_numeric_phones() -> None:
    data = xlsx(
        [
            ["Phone", "Name", "Customer ID", "Due date"],
            [9121234567, "Ali", 42, date(2026, 12, 20)],
            ["0912-123-4567", "Ali again", None, None],
            ["abc", "Bad", None, None],
            [9121234569, "Reza", "x1", None],
        ]
    )
    report = read(data, "targets.xlsx")
    ali = report.targets[0]
    assert (ali.phone, ali.customer_id, ali.fields) == (
        "+989121234567",
        42,
        {"due_date": "2026-12-20"},
    )
    assert report.merged == [(3, 2, {"name": "Ali again"})]
    assert [(p.line, "customer_id" in p.reason) for p in report.problems] == [
        (4, False),
        (5, True),
    ]
