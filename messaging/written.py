"""Values as a message writes them, in the reader's language: amounts in Rials with the
language's digits and group separators, dates (Jalali in Persian), codes kept left to right.

The IVR speaks the same values (prompts/numbers.py, prompts/dates.py); a text, an email or a
fax writes them, so a Persian reader sees ۱۲٬۵۰۰٬۰۰۰ ریال and ۱۴۰۵/۰۹/۱۰, never 12500000."""

from __future__ import annotations

import datetime as dt

import jdatetime

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Persian separates thousands with the Arabic thousands separator (U+066C); Russian with a
# no-break space; English with a comma.
_GROUP = {"fa": "\u066c", "ru": "\u00a0", "en": ","}
_RIALS = {"fa": "ریال", "ru": "риалов", "en": "Rials"}
_EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# Marks a code (a policy number, a tracking code) as left-to-right inside Persian text, so
# "P-1234/56" is not reordered by the bidi algorithm.
_LTR_ISOLATE, _POP_ISOLATE = "\u2066", "\u2069"


def digits(text: str, lang: str) -> str:
    return text.translate(PERSIAN_DIGITS) if lang == "fa" else text


def number(value: int, lang: str) -> str:
    grouped = f"{value:,}".replace(",", _GROUP.get(lang, ","))
    return digits(grouped, lang)


def amount(amount_rials: int, lang: str) -> str:
    return f"{number(amount_rials, lang)} {_RIALS.get(lang, 'Rials')}"


def date(day: dt.date, lang: str) -> str:
    if lang == "fa":
        jalali = jdatetime.date.fromgregorian(date=day)
        return digits(f"{jalali.year}/{jalali.month:02d}/{jalali.day:02d}", lang)
    if lang == "ru":
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def moment(instant: dt.datetime, lang: str) -> str:
    """A date and time of day (a login, a payment), at the instant's own offset."""
    return f"{date(instant.date(), lang)} {digits(instant.strftime('%H:%M'), lang)}"


def code(text: str, lang: str) -> str:
    """A policy number or tracking code: its own digits (a reader types it back as printed),
    kept left to right inside Persian text."""
    return f"{_LTR_ISOLATE}{text}{_POP_ISOLATE}" if lang == "fa" else text
