"""Dates and times as words: Jalali for Persian, Gregorian for English and Russian.

- fa: ۱۵ مهر ۱۴۰۳ → "پانزدهم مهر هزار و چهارصد و سه" (ordinal day, month, cardinal year);
  10:05 → "ساعت ده و پنج دقیقه" (24-hour clock, as Iranian services announce hours).
- en: 2024-10-06 → "October sixth, twenty twenty-four"; 14:30 → "two thirty p.m.".
- ru: 2024-10-06 → "шестое октября две тысячи двадцать четвёртого года" (neuter ordinal
  day, month in the genitive, year as a genitive ordinal); 10:05 → "десять часов пять минут".

Pass local dates and times: converting from UTC to the caller's zone is the caller's job.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

import jdatetime

from prompts.numbers import fragment, plural_category, say_number
from prompts.utterance import Utterance
from prompts.vocabulary import check_language

DateLike: TypeAlias = "dt.date | jdatetime.date"


def say_date(date: DateLike, lang: str, *, with_year: bool = True) -> Utterance:
    """The day, month and (unless `with_year` is false) the year of `date`.

    Persian is said in the Jalali calendar: a Gregorian `date` is converted; a
    `jdatetime.date` is said as is. English and Russian take Gregorian dates.
    """
    check_language(lang)
    if isinstance(date, dt.datetime):
        date = date.date()
    elif isinstance(date, jdatetime.datetime):
        date = date.date()
    if lang == "fa":
        jalali = (
            date if isinstance(date, jdatetime.date) else jdatetime.date.fromgregorian(date=date)
        )
        parts = [_fa_day(jalali.day), fragment(f"fa/month/{jalali.month}")]
        if with_year:
            parts.append(say_number(jalali.year, "fa"))
        return Utterance.join(parts)
    gregorian = date.togregorian() if isinstance(date, jdatetime.date) else date
    if lang == "en":
        month_day = Utterance.join(
            (fragment(f"en/month/{gregorian.month}"), _en_day(gregorian.day))
        )
        if not with_year:
            return month_day
        # The comma is for the reader; the fragments are the same.
        return Utterance.join((month_day, _en_year(gregorian.year)), separator=", ")
    parts = [_ru_day(gregorian.day), fragment(f"ru/month/{gregorian.month}_gen")]
    if with_year:
        parts.append(_ru_year(gregorian.year))
    return Utterance.join(parts)


def say_time(time: dt.time | dt.datetime, lang: str) -> Utterance:
    """Hours and minutes of `time` (seconds are not said)."""
    check_language(lang)
    hour, minute = time.hour, time.minute
    if lang == "fa":
        parts = [fragment("fa/unit/hour"), say_number(hour, "fa")]
        if minute:
            parts += [fragment("fa/conj/o"), say_number(minute, "fa"), fragment("fa/unit/minute")]
        return Utterance.join(parts)
    if lang == "ru":
        parts = [say_number(hour, "ru", "m"), fragment(f"ru/unit/hour_{plural_category(hour)}")]
        if minute:
            parts += [
                say_number(minute, "ru", "f"),
                fragment(f"ru/unit/minute_{plural_category(minute)}"),
            ]
        return Utterance.join(parts)
    return _en_time(hour, minute)


# ---------------------------------------------------------------- days


def _compound_day(day: int, lang: str, ordinal_suffix: str, separator: str) -> Utterance:
    """Days up to 31 as ordinals; 21..29 and 31 are a cardinal ten and an ordinal unit."""
    if not 1 <= day <= 31:
        raise ValueError(f"{day} is not a day of a month")
    if day < 20 or day % 10 == 0:
        return fragment(f"{lang}/ord/{day}{ordinal_suffix}")
    tens = fragment(f"{lang}/num/{day - day % 10}")
    unit = fragment(f"{lang}/ord/{day % 10}{ordinal_suffix}")
    if lang == "fa":
        return Utterance.join((tens, fragment("fa/conj/o"), unit))
    return Utterance.join((tens, unit), separator=separator)


def _fa_day(day: int) -> Utterance:
    return _compound_day(day, "fa", "", " ")


def _en_day(day: int) -> Utterance:
    return _compound_day(day, "en", "", "-")


def _ru_day(day: int) -> Utterance:
    return _compound_day(day, "ru", "_n", " ")


# ---------------------------------------------------------------- years


def _en_year(year: int) -> Utterance:
    """1999 "nineteen ninety-nine", 1905 "nineteen oh five", 1900 "nineteen hundred",
    2000 "two thousand", 2007 "two thousand seven", 2024 "twenty twenty-four"."""
    _check_year(year)
    century, rest = divmod(year, 100)
    if year < 1000 or year % 1000 < 10:
        return say_number(year, "en")
    if rest == 0:
        return say_number(century, "en") + fragment("en/scale/hundred")
    if rest < 10:
        return Utterance.join(
            (say_number(century, "en"), fragment("en/word/oh"), say_number(rest, "en"))
        )
    return say_number(century, "en") + say_number(rest, "en")


def _ru_year(year: int) -> Utterance:
    """The year as a genitive ordinal: only its last word changes ("две тысячи двадцать
    четвёртого", "тысяча девятисотого", "двухтысячного"), followed by "года"."""
    _check_year(year)
    thousands, rest = divmod(year, 1000)
    hundreds, below = (rest // 100) * 100, rest % 100
    parts: list[Utterance] = []
    if rest == 0:
        parts.append(fragment(f"ru/ord/{year}_gen"))
    else:
        if thousands == 1:
            # Spoken years say "тысяча девятьсот...", not "одна тысяча".
            parts.append(fragment("ru/scale/thousand_one"))
        elif thousands:
            parts.append(say_number(thousands * 1000, "ru"))
        if below == 0:
            parts.append(fragment(f"ru/ord/{hundreds}_gen"))
        else:
            if hundreds:
                parts.append(say_number(hundreds, "ru"))
            if below < 20 or below % 10 == 0:
                parts.append(fragment(f"ru/ord/{below}_gen"))
            else:
                parts.append(say_number(below - below % 10, "ru"))
                parts.append(fragment(f"ru/ord/{below % 10}_gen"))
    parts.append(fragment("ru/word/year_gen"))
    return Utterance.join(parts)


def _check_year(year: int) -> None:
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} cannot be said")


# ---------------------------------------------------------------- English clock


def _en_time(hour: int, minute: int) -> Utterance:
    if minute == 0 and hour in (0, 12):
        word = "midnight" if hour == 0 else "noon"
        return say_number(12, "en") + fragment(f"en/word/{word}")
    parts = [say_number(hour % 12 or 12, "en")]
    if 0 < minute < 10:
        parts += [fragment("en/word/oh"), say_number(minute, "en")]
    elif minute:
        parts.append(say_number(minute, "en"))
    parts.append(fragment("en/word/am" if hour < 12 else "en/word/pm"))
    return Utterance.join(parts)
