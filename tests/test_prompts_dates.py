"""Dates (Jalali for Persian, Gregorian for English and Russian) and times as words."""

from __future__ import annotations

import datetime as dt

import jdatetime
import pytest

from prompts.dates import DateLike, say_date, say_time
from prompts.vocabulary import words


@pytest.mark.parametrize(
    ("date", "text"),
    [
        (jdatetime.date(1403, 7, 15), "پانزدهم مهر هزار و چهارصد و سه"),
        (dt.date(2024, 10, 6), "پانزدهم مهر هزار و چهارصد و سه"),
        (dt.date(2001, 3, 21), "یکم فروردین هزار و سیصد و هشتاد"),
        (jdatetime.date(1402, 12, 29), "بیست و نهم اسفند هزار و چهارصد و دو"),
        (jdatetime.date(1403, 6, 31), "سی و یکم شهریور هزار و چهارصد و سه"),
        (jdatetime.date(1403, 1, 30), "سی\u200cام فروردین هزار و چهارصد و سه"),
        (jdatetime.date(1400, 10, 20), "بیستم دی هزار و چهارصد"),
    ],
)
def test_persian_dates_are_jalali_with_an_ordinal_day(date: DateLike, text: str) -> None:
    assert say_date(date, "fa").text == text


def test_persian_date_fragments() -> None:
    assert say_date(jdatetime.date(1403, 7, 15), "fa").fragments == (
        "fa/ord/15",
        "fa/month/7",
        "fa/scale/thousand",
        "fa/conj/o",
        "fa/num/400",
        "fa/conj/o",
        "fa/num/3",
    )


@pytest.mark.parametrize(
    ("date", "text"),
    [
        (dt.date(2024, 10, 6), "шестое октября две тысячи двадцать четвёртого года"),
        (dt.date(1999, 12, 31), "тридцать первое декабря тысяча девятьсот девяносто девятого года"),
        (dt.date(2000, 1, 1), "первое января двухтысячного года"),
        (dt.date(2001, 3, 23), "двадцать третье марта две тысячи первого года"),
        (dt.date(2010, 6, 30), "тридцатое июня две тысячи десятого года"),
        (dt.date(2013, 5, 9), "девятое мая две тысячи тринадцатого года"),
        (dt.date(1900, 2, 3), "третье февраля тысяча девятисотого года"),
        (dt.date(2100, 8, 20), "двадцатое августа две тысячи сотого года"),
        (dt.date(2140, 11, 4), "четвёртое ноября две тысячи сто сорокового года"),
    ],
)
def test_russian_dates_have_a_neuter_day_genitive_month_and_ordinal_year(
    date: dt.date, text: str
) -> None:
    assert say_date(date, "ru").text == text


@pytest.mark.parametrize(
    ("date", "text"),
    [
        (dt.date(2024, 10, 6), "October sixth, twenty twenty-four"),
        (dt.date(1999, 12, 31), "December thirty-first, nineteen ninety-nine"),
        (dt.date(2000, 1, 1), "January first, two thousand"),
        (dt.date(2007, 7, 22), "July twenty-second, two thousand seven"),
        (dt.date(1905, 4, 13), "April thirteenth, nineteen oh five"),
        (dt.date(1900, 5, 20), "May twentieth, nineteen hundred"),
    ],
)
def test_english_dates(date: dt.date, text: str) -> None:
    assert say_date(date, "en").text == text


def test_dates_without_the_year() -> None:
    assert say_date(dt.date(2024, 10, 6), "fa", with_year=False).text == "پانزدهم مهر"
    assert say_date(dt.date(2024, 10, 6), "en", with_year=False).text == "October sixth"
    assert say_date(dt.date(2024, 10, 6), "ru", with_year=False).text == "шестое октября"


def test_a_jalali_date_is_said_in_gregorian_for_russian() -> None:
    assert (
        say_date(jdatetime.date(1403, 7, 15), "ru").text
        == say_date(dt.date(2024, 10, 6), "ru").text
    )


def test_a_datetime_is_said_by_its_date() -> None:
    assert (
        say_date(dt.datetime(2024, 10, 6, 23, 59), "en").text == "October sixth, twenty twenty-four"
    )


@pytest.mark.parametrize(
    ("time", "fa", "en", "ru"),
    [
        (dt.time(0, 0), "ساعت صفر", "twelve midnight", "ноль часов"),
        (dt.time(1, 1), "ساعت یک و یک دقیقه", "one oh one a.m.", "один час одна минута"),
        (dt.time(10, 5), "ساعت ده و پنج دقیقه", "ten oh five a.m.", "десять часов пять минут"),
        (dt.time(12, 0), "ساعت دوازده", "twelve noon", "двенадцать часов"),
        (
            dt.time(14, 30),
            "ساعت چهارده و سی دقیقه",
            "two thirty p.m.",
            "четырнадцать часов тридцать минут",
        ),
        (
            dt.time(22, 22, 59),
            "ساعت بیست و دو و بیست و دو دقیقه",
            "ten twenty-two p.m.",
            "двадцать два часа двадцать две минуты",
        ),
    ],
)
def test_times(time: dt.time, fa: str, en: str, ru: str) -> None:
    assert say_time(time, "fa").text == fa
    assert say_time(time, "en").text == en
    assert say_time(time, "ru").text == ru


@pytest.mark.parametrize("lang", ["fa", "en", "ru"])
def test_every_fragment_of_every_date_and_time_is_in_the_vocabulary(lang: str) -> None:
    known = set(words(lang))
    day = dt.date(1990, 1, 1)
    while day < dt.date(2031, 1, 1):
        said = say_date(day, lang)
        assert set(said.fragments) <= known, (day, set(said.fragments) - known)
        day += dt.timedelta(days=1)
    for hour in range(24):
        for minute in range(60):
            said = say_time(dt.time(hour, minute), lang)
            assert set(said.fragments) <= known, (hour, minute)
