"""The PDFs an email carries: a debt statement and a policy schedule in Persian (shaped, right
to left), English and Russian, read back from the PDF itself in logical order.

The PDF is read glyph by glyph: each glyph's position on the page and its text from the
font's ToUnicode map, a line's glyphs in visual order (left to right), then turned back into
reading order the way the bidi algorithm laid them out (a right-to-left line with left-to-right
runs of digits and Latin letters inside it). Glyph by glyph, so a lam-alef ligature (one
glyph, two letters) keeps its letters in order, which poppler's pdftotext gets wrong."""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pytest
from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream, DictionaryObject

from customer_file.views import (
    ChequeView,
    CustomerSummary,
    DebtView,
    InstallmentView,
    PolicyView,
)
from messaging import documents
from tamas.settings import Settings

TODAY = dt.date(2026, 12, 1)


def customer(language: str) -> CustomerSummary:
    return CustomerSummary(
        id=7,
        kind="person",
        given_name_fa="علی",
        family_name_fa="رضایی",
        given_name_latin="Ali",
        family_name_latin="Rezaei",
        gender="m",
        language=language,
        tier="gold",
        id_last4="5678",
        has_pin=True,
    )


DEBT = DebtView(
    customer_id=7,
    balance_rials=12_500_000,
    overdue_rials=2_500_000,
    next_installments=(InstallmentView("P-1403-77", 3, dt.date(2026, 12, 20), 2_500_000, "due"),),
    cheques_due=(ChequeView("778812", "ملت", dt.date(2027, 1, 5), 3_000_000, "due"),),
    cheques_bounced=(),
)
POLICY = PolicyView(
    id=1,
    number="BN-1403-5567",
    line="motor_hull",
    status="active",
    start_date=dt.date(2026, 3, 21),
    end_date=dt.date(2027, 3, 20),
    premium_rials=48_000_000,
    insured_objects=({"vehicle": "پژو ۲۰۶", "plate": "12ب345-67"},),
)


@pytest.fixture(scope="module")
def fonts() -> documents.Fonts:
    settings = Settings()
    return documents.Fonts.from_paths(settings.document_font, settings.document_font_bold)


# --- reading a PDF back in logical order ---------------------------------------------------


def _to_unicode(font: Mapping[str, object]) -> dict[int, str]:
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")  # type: ignore[attr-defined]
    found: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for start, end, first in re.findall(r"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            for offset in range(int(end, 16) - int(start, 16) + 1):
                found[int(start, 16) + offset] = chr(int(first, 16) + offset)
    return found


def _fonts(page: PageObject) -> DictionaryObject:
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    return fonts


def _glyph_texts(data: bytes, to_unicode: dict[int, str]) -> str:
    # fpdf2 writes TrueType text as Identity-H: two bytes per glyph.
    codes = (int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    return "".join(to_unicode.get(code, "") for code in codes)


def _direction(unit: str) -> str:
    for char in unit:
        kind = unicodedata.bidirectional(char)
        if kind in {"R", "AL"}:
            return "R"
        if kind in {"L", "EN", "AN"}:
            return "L"
    return "N"


def _logical(units: list[str]) -> str:
    """One line's glyph texts, left to right as drawn, in reading order."""
    if not any(_direction(unit) == "R" for unit in units):
        return "".join(units)
    # Right-to-left line: read from the right; a left-to-right run (digits, Latin words, and
    # the separators between them) keeps its own order inside.
    backwards = list(reversed(units))
    out: list[str] = []
    i = 0
    while i < len(backwards):
        if _direction(backwards[i]) != "L":
            out.append(backwards[i])
            i += 1
            continue
        j = i
        while j + 1 < len(backwards) and (
            _direction(backwards[j + 1]) == "L"
            or (
                _direction(backwards[j + 1]) == "N"
                and j + 2 < len(backwards)
                and _direction(backwards[j + 2]) == "L"
            )
        ):
            j += 1
        out.extend(reversed(backwards[i : j + 1]))
        i = j + 1
    return "".join(out)


def logical_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    lines: list[str] = []
    for page in reader.pages:
        fonts = {name: _to_unicode(font.get_object()) for name, font in _fonts(page).items()}
        glyphs: dict[float, list[tuple[float, str]]] = defaultdict(list)
        font: dict[int, str] = {}
        x = y = 0.0
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                font = fonts.get(operands[0], {})
            elif operator == b"BT":
                x = y = 0.0
            elif operator == b"Td":  # from the start of the line: at BT, the page's origin
                x, y = x + float(operands[0]), y + float(operands[1])
            elif operator == b"Tm":
                x, y = float(operands[4]), float(operands[5])
            elif operator == b"Tj":
                raw = operands[0]
                data = raw.original_bytes if hasattr(raw, "original_bytes") else bytes(raw)
                glyphs[round(y, 1)].append((x, _glyph_texts(data, font)))
        for line_y in sorted(glyphs, reverse=True):  # top of the page first
            lines.append(_line(sorted(glyphs[line_y])))
    return "\n".join(lines)


# Glyphs further apart than this are in different cells of a table row, each laid out as a
# paragraph of its own (a glyph of 11 pt text advances 3-9 pt).
CELL_GAP_PT = 20.0


def _line(glyphs: list[tuple[float, str]]) -> str:
    cells: list[list[str]] = [[]]
    for (x, text), previous in zip(glyphs, [None, *glyphs[:-1]], strict=True):
        if previous is not None and x - previous[0] > CELL_GAP_PT:
            cells.append([])
        cells[-1].append(text)
    in_order = [_logical(cell) for cell in cells]
    right_to_left = any(_direction(text) == "R" for _x, text in glyphs)
    return " ".join(reversed(in_order) if right_to_left else in_order)


def _plain(text: str) -> str:
    """Spacing and the zero-width non-joiner aside (fonts draw it as nothing)."""
    return re.sub(r"\s+", " ", text.replace("\u200c", "")).strip()


def assert_reads(pdf: bytes, *phrases: str) -> None:
    text = _plain(logical_text(pdf))
    for phrase in phrases:
        assert _plain(phrase) in text, f"{phrase!r} not in {text!r}"


# --- the documents -------------------------------------------------------------------------


def test_a_persian_debt_statement_reads_back_in_logical_order(fonts: documents.Fonts) -> None:
    pdf = documents.render_pdf(documents.debt_statement(customer("fa"), DEBT, TODAY), fonts)

    assert_reads(
        pdf,
        "صورت‌حساب بدهی",
        "علی رضایی گرامی،",
        "مانده بدهی و سررسیدهای پیش رو در تاریخ ۱۴۰۵/۰۹/۱۰ به شرح زیر است.",
        "مانده بدهی ۱۲٬۵۰۰٬۰۰۰ ریال",
        "سررسید گذشته ۲٬۵۰۰٬۰۰۰ ریال",
        "قسط ۳ بیمه‌نامه P-1403-77، سررسید ۱۴۰۵/۰۹/۲۹ ۲٬۵۰۰٬۰۰۰ ریال",
        "چک 778812 بانک ملت، سررسید ۱۴۰۵/۱۰/۱۵ ۳٬۰۰۰٬۰۰۰ ریال",
        # lam-alef is one glyph: its two letters must come back in order
        "این سند به صورت خودکار صادر شده است و امضا لازم ندارد.",
    )


def test_the_persian_letters_are_shaped_not_left_as_isolated_forms(
    fonts: documents.Fonts,
) -> None:
    pdf = documents.render_pdf(documents.debt_statement(customer("fa"), DEBT, TODAY), fonts)
    reader = PdfReader(io.BytesIO(pdf))
    font = next(iter(_fonts(reader.pages[0]).values())).get_object()
    to_unicode = _to_unicode(font)

    # Several glyphs of the embedded font stand for the same letter: its initial, medial,
    # final and isolated forms, chosen by HarfBuzz. Unshaped text would use one glyph each.
    glyphs_per_letter: dict[str, int] = defaultdict(int)
    for text in to_unicode.values():
        glyphs_per_letter[text] += 1
    assert glyphs_per_letter["ی"] >= 3 and glyphs_per_letter["ه"] >= 2
    assert "لا" in to_unicode.values() or "ال" in to_unicode.values()  # the lam-alef ligature


def test_a_policy_schedule_in_persian_english_and_russian(fonts: documents.Fonts) -> None:
    fa = documents.render_pdf(documents.policy_schedule(customer("fa"), POLICY), fonts)
    en = documents.render_pdf(documents.policy_schedule(customer("en"), POLICY), fonts)
    ru = documents.render_pdf(documents.policy_schedule(customer("ru"), POLICY), fonts)

    assert_reads(fa, "مشخصات بیمه‌نامه", "شماره بیمه‌نامه BN-1403-5567", "حق بیمه ۴۸٬۰۰۰٬۰۰۰ ریال")
    assert_reads(fa, "تاریخ شروع ۱۴۰۵/۰۱/۰۱", "تاریخ پایان ۱۴۰۵/۱۲/۲۹")
    assert_reads(en, "Policy schedule", "Dear Ali Rezaei,", "Policy number BN-1403-5567")
    assert_reads(en, "Premium 48,000,000 Rials", "Start date 21 Mar 2026")
    assert_reads(ru, "Сведения о полисе", "Номер полиса BN-1403-5567", "Дата начала 21.03.2026")


def test_a_missing_font_says_which_package_has_one(tmp_path: Path) -> None:
    with pytest.raises(documents.DocumentError, match="fonts-dejavu-core"):
        documents.Fonts.from_paths(str(tmp_path / "none.ttf"), str(tmp_path / "none-bold.ttf"))
