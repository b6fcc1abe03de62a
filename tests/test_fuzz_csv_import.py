"""Fuzzing the campaign-target CSV reader with a fixed seed and a bounded count: whatever bytes
an operator uploads, the import either says the file as a whole is unreadable or accounts for
every row (a target, a problem with its line, or merged into an earlier row); it never raises
anything else and never drops a row silently."""

from __future__ import annotations

import random

from dialer.imports import UnreadableFile, read

SEED = 20261130
CASES = 400
HEADER = b"phone,name,language,policy_number\n"
PIECES = [
    b"09121234567",
    "۰۹۱۲۱۲۳۴۵۶۷".encode(),
    b"+79161234567",
    b"8 495 123 45 67",
    b"not a number",
    b"",
    b'"',
    b'""',
    b",",
    b";",
    b"\t",
    b"\x00",
    b"\r",
    b"\xff\xfe",
    "علی".encode(),
    "Олга".encode("cp1251"),
    b"fa",
    b"ru",
    b"de",
    b"P-1",
]


def _row(rng: random.Random) -> bytes:
    cells = [rng.choice(PIECES) + rng.choice(PIECES) for _ in range(rng.randint(0, 6))]
    return b",".join(cells) + rng.choice([b"\n", b"\r\n", b""])


def test_every_uploaded_row_is_accounted_for_or_the_file_refused() -> None:
    rng = random.Random(SEED)
    refused = 0
    for _ in range(CASES):
        body = b"".join(_row(rng) for _ in range(rng.randint(0, 12)))
        data = (HEADER if rng.random() < 0.9 else b"") + body
        try:
            report = read(data, "targets.csv")
        except UnreadableFile:
            refused += 1
            continue
        accounted = len(report.targets) + len(report.problems) + len(report.merged)
        assert accounted == report.rows
        for problem in report.problems:
            assert problem.line >= 2 and problem.reason
    # Most cases have a header and must be read row by row, not refused whole.
    assert refused < CASES // 2
