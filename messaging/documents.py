"""Documents sent as PDF (an email's attachment, a fax's pages): a debt statement, a policy
schedule, or a message's own text, in the customer's language.

Persian is drawn with fpdf2's text shaping (HarfBuzz, through uharfbuzz) and its Unicode bidi
algorithm: letters take their joined forms and each line is laid out right to left with
numbers and Latin words left to right inside it, so the PDF's text extracts back in logical
order. fpdf2 was chosen over reportlab + arabic-reshaper + python-bidi because it shapes with
HarfBuzz (the font's own rules, lam-alef ligatures and ZWNJ included) instead of a
hand-kept table of letter forms, and embeds a Unicode map, so a search in the PDF finds
Persian words. One font covers fa, en and ru: DejaVu Sans (Debian's fonts-dejavu-core)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from customer_file.views import CustomerSummary, DebtView, PolicyView
from messaging.written import amount, date, number

RTL_LANGUAGES = frozenset({"fa"})


class DocumentError(Exception):
    """A document cannot be drawn (a font missing...); the message says what to fix."""


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path

    @classmethod
    def from_paths(cls, regular: str, bold: str) -> Fonts:
        fonts = cls(Path(regular), Path(bold))
        for path in (fonts.regular, fonts.bold):
            if not path.is_file():
                raise DocumentError(
                    f"font {path} not found: documents need a font with Persian, Latin and "
                    "Cyrillic letters (Debian's fonts-dejavu-core has DejaVu Sans); set "
                    "document_font and document_font_bold"
                )
        return fonts


@dataclass(frozen=True)
class Document:
    title: str
    language: str
    paragraphs: Sequence[str] = ()
    # (label, value) rows of a two-column table: amounts, dates, policy details.
    rows: Sequence[tuple[str, str]] = ()
    footer: str = ""
    # Shown top of every page: the insurer, the document's date.
    header: str = ""
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def right_to_left(self) -> bool:
        return self.language in RTL_LANGUAGES


def render_pdf(document: Document, fonts: Fonts) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("body", fname=str(fonts.regular))
    pdf.add_font("body", style="B", fname=str(fonts.bold))
    # No fixed direction: the bidi algorithm takes each paragraph's from its first strong
    # letter, so a Latin policy number inside a Persian line stays left to right.
    pdf.set_text_shaping(use_shaping_engine=True)
    pdf.set_title(document.title)
    pdf.set_lang(document.language)
    pdf.add_page()
    align = Align.R if document.right_to_left else Align.L
    width = pdf.epw
    if document.header:
        pdf.set_font("body", size=9)
        _paragraph(pdf, width, 6, document.header, align)
    pdf.set_font("body", style="B", size=16)
    _paragraph(pdf, width, 10, document.title, align)
    pdf.ln(3)
    pdf.set_font("body", size=11)
    for paragraph in document.paragraphs:
        _paragraph(pdf, width, 7, paragraph, align)
        pdf.ln(2)
    if document.rows:
        _table(pdf, document, width)
    for note in document.notes:
        pdf.set_font("body", size=9)
        _paragraph(pdf, width, 6, note, align)
    if document.footer:
        pdf.ln(4)
        pdf.set_font("body", size=9)
        _paragraph(pdf, width, 6, document.footer, align)
    return bytes(pdf.output())


def _paragraph(pdf: FPDF, width: float, height: float, text: str, align: Align) -> None:
    pdf.multi_cell(width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _table(pdf: FPDF, document: Document, width: float) -> None:
    # Label column first in reading order: on the right for Persian.
    label_w, value_w = width * 0.55, width * 0.45
    pdf.set_font("body", size=11)
    for label, value in document.rows:
        if document.right_to_left:
            pdf.cell(value_w, 8, value, border=1, align=Align.L)
            pdf.cell(
                label_w, 8, label, border=1, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        else:
            pdf.cell(label_w, 8, label, border=1, align=Align.L)
            pdf.cell(
                value_w, 8, value, border=1, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
    pdf.ln(4)


# ---------------------------------------------------------------- the insurer's documents

LABELS: dict[str, dict[str, str]] = {
    "debt_title": {
        "fa": "صورت‌حساب بدهی",
        "en": "Statement of account",
        "ru": "Выписка о задолженности",
    },
    "schedule_title": {
        "fa": "مشخصات بیمه‌نامه",
        "en": "Policy schedule",
        "ru": "Сведения о полисе",
    },
    "dear": {"fa": "{name} گرامی،", "en": "Dear {name},", "ru": "Уважаемый(ая) {name},"},
    "balance": {"fa": "مانده بدهی", "en": "Balance", "ru": "Задолженность"},
    "overdue": {"fa": "سررسید گذشته", "en": "Overdue", "ru": "Просрочено"},
    "installment": {
        "fa": "قسط {sequence} بیمه‌نامه {policy}، سررسید {due}",
        "en": "Installment {sequence} of policy {policy}, due {due}",
        "ru": "Взнос {sequence} по полису {policy}, срок {due}",
    },
    "cheque": {
        "fa": "چک {number} بانک {bank}، سررسید {due}",
        "en": "Cheque {number} ({bank}), due {due}",
        "ru": "Чек {number} ({bank}), срок {due}",
    },
    "bounced": {
        "fa": "چک برگشتی {number} بانک {bank}",
        "en": "Bounced cheque {number} ({bank})",
        "ru": "Возвращённый чек {number} ({bank})",
    },
    "debt_intro": {
        "fa": "مانده بدهی و سررسیدهای پیش رو در تاریخ {today} به شرح زیر است.",
        "en": "Your balance and the coming due dates as of {today} are below.",
        "ru": "Ваша задолженность и ближайшие сроки платежей на {today}:",
    },
    "number": {"fa": "شماره بیمه‌نامه", "en": "Policy number", "ru": "Номер полиса"},
    "line": {"fa": "رشته بیمه", "en": "Line of business", "ru": "Вид страхования"},
    "status": {"fa": "وضعیت", "en": "Status", "ru": "Статус"},
    "start": {"fa": "تاریخ شروع", "en": "Start date", "ru": "Дата начала"},
    "end": {"fa": "تاریخ پایان", "en": "End date", "ru": "Дата окончания"},
    "premium": {"fa": "حق بیمه", "en": "Premium", "ru": "Страховая премия"},
    "insured": {"fa": "موضوع بیمه", "en": "Insured", "ru": "Объект страхования"},
    "footer": {
        "fa": "این سند به صورت خودکار صادر شده است و امضا لازم ندارد.",
        "en": "This document was issued automatically and needs no signature.",
        "ru": "Документ сформирован автоматически и не требует подписи.",
    },
}


def label(key: str, language: str, **values: object) -> str:
    texts = LABELS[key]
    return (texts.get(language) or texts["fa"]).format(**values)


def customer_name(customer: CustomerSummary, language: str) -> str:
    if language == "fa" or not customer.given_name_latin:
        return f"{customer.given_name_fa} {customer.family_name_fa}".strip()
    return f"{customer.given_name_latin} {customer.family_name_latin}".strip()


def debt_statement(
    customer: CustomerSummary, debt: DebtView, today: dt.date, *, header: str = ""
) -> Document:
    language = customer.language
    rows = [(label("balance", language), amount(debt.balance_rials, language))]
    if debt.overdue_rials:
        rows.append((label("overdue", language), amount(debt.overdue_rials, language)))
    for installment in debt.next_installments:
        what = label(
            "installment",
            language,
            sequence=number(installment.sequence, language),
            policy=installment.policy_number,
            due=date(installment.due_date, language),
        )
        rows.append((what, amount(installment.amount_rials, language)))
    for cheque in debt.cheques_due:
        what = label(
            "cheque",
            language,
            number=cheque.number,
            bank=cheque.bank,
            due=date(cheque.due_date, language),
        )
        rows.append((what, amount(cheque.amount_rials, language)))
    for cheque in debt.cheques_bounced:
        what = label("bounced", language, number=cheque.number, bank=cheque.bank)
        rows.append((what, amount(cheque.amount_rials, language)))
    return Document(
        title=label("debt_title", language),
        language=language,
        header=header,
        paragraphs=(
            label("dear", language, name=customer_name(customer, language)),
            label("debt_intro", language, today=date(today, language)),
        ),
        rows=rows,
        footer=label("footer", language),
    )


def policy_schedule(customer: CustomerSummary, policy: PolicyView, *, header: str = "") -> Document:
    language = customer.language
    rows = [
        (label("number", language), policy.number),
        (label("line", language), policy.line),
        (label("status", language), policy.status),
        (label("start", language), date(policy.start_date, language)),
        (label("end", language), date(policy.end_date, language)),
        (label("premium", language), amount(policy.premium_rials, language)),
    ]
    for insured in policy.insured_objects:
        described = "، ".join(str(value) for value in insured.values() if value)
        if described:
            rows.append((label("insured", language), described))
    return Document(
        title=label("schedule_title", language),
        language=language,
        header=header,
        paragraphs=(label("dear", language, name=customer_name(customer, language)),),
        rows=rows,
        footer=label("footer", language),
    )


def message_document(title: str, body: str, language: str, *, header: str = "") -> Document:
    """A message's own text as a page: what a fax of an outbox row carries."""
    paragraphs = tuple(part.strip() for part in body.split("\n") if part.strip())
    return Document(title=title, language=language, header=header, paragraphs=paragraphs)
