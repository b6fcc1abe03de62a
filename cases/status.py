"""A case's status as the customer is told it when they give its tracking number by phone or by
text: what it is, where it stands, and when they can expect the answer (Jalali in Persian,
Persian digits). One function for the IVR's and the text service's answers, so both say the
same thing.
"""

from __future__ import annotations

from datetime import datetime

import jdatetime

from cases.store import CaseNotFound, CaseStore, CaseView
from ivr.hours import TEHRAN

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# What the customer hears of a state: fewer words than the agents' (several states read alike).
STAGE = {
    "received": "received", "new": "received", "acknowledged": "in_review",
    "assessed": "in_review", "investigating": "in_review", "in_progress": "in_review",
    "waiting_customer": "waiting_you", "waiting_document": "waiting_document",
    "responded": "answered", "communicated": "answered", "resolved": "answered",
    "closed": "closed",
}  # fmt: skip
WORDS = {
    "fa": {
        "received": "ثبت شده و در نوبت بررسی است",
        "in_review": "در حال بررسی است",
        "waiting_you": "منتظر پاسخ یا اطلاعات شماست",
        "waiting_document": "منتظر مدرک است",
        "answered": "رسیدگی شده است",
        "closed": "بسته شده است",
        "due": "پاسخ تا {0}",
        "case": "درخواست {0}",
        "unknown": "درخواستی با این کد پیگیری پیدا نشد.",
    },
    "en": {
        "received": "has been received and is waiting to be reviewed",
        "in_review": "is being reviewed",
        "waiting_you": "is waiting for your answer or information",
        "waiting_document": "is waiting for a document",
        "answered": "has been dealt with",
        "closed": "is closed",
        "due": "answer by {0}",
        "case": "Request {0}",
        "unknown": "No request has this tracking number.",
    },
    "ru": {
        "received": "зарегистрировано и ждёт рассмотрения",
        "in_review": "рассматривается",
        "waiting_you": "ждёт вашего ответа или сведений",
        "waiting_document": "ждёт документа",
        "answered": "рассмотрено",
        "closed": "закрыто",
        "due": "ответ до {0}",
        "case": "Обращение {0}",
        "unknown": "Обращения с таким номером не найдено.",
    },
}


def when(moment: datetime, language: str) -> str:
    """`25 مهر 1404، ساعت ۱۶:۰۰` in Persian; `2025-10-17 16:00` otherwise; Tehran's clock."""
    local = moment.astimezone(TEHRAN)
    if language != "fa":
        return local.strftime("%Y-%m-%d %H:%M")
    day = jdatetime.date.fromgregorian(date=local.date())
    month = jdatetime.date.j_months_fa[day.month - 1]
    text = f"{day.day} {month} {day.year}، ساعت {local:%H:%M}"
    return text.translate(PERSIAN_DIGITS)


def describe(case: CaseView, language: str) -> str:
    persian = language == "fa"
    words = WORDS.get(language, WORDS["fa"])
    number = case.tracking_number.translate(PERSIAN_DIGITS) if persian else case.tracking_number
    stage = STAGE.get(case.state, "in_review")
    text = f"{words['case'].format(number)} {words[stage]}"
    due = case.resolution_due_at if case.status == "open" else None
    if due is not None and stage not in ("waiting_you", "waiting_document"):
        text += ("؛ " if persian else "; ") + words["due"].format(when(due, language))
    return text + "."


async def customer_status(store: CaseStore, tracking_number: str, language: str = "fa") -> str:
    """What to say or text back for a tracking number, a known one or not."""
    try:
        case = await store.get(tracking_number)
    except CaseNotFound:
        return WORDS.get(language, WORDS["fa"])["unknown"]
    return describe(case, language)
