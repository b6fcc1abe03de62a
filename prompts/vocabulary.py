"""The finite set of word fragments numbers, amounts, dates and times are assembled from.

Every fragment any rendering can produce is listed here, so `tamas prompts build` can
pre-generate all of them. Names are `<lang>/<kind>/<name>`; Russian forms carry a suffix:
gender (`_m`, `_f`, `_n`), plural category (`_one`, `_few`, `_many`) or case (`_gen`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tamas.languages import LANGUAGES


@dataclass(frozen=True)
class Word:
    """`text` is written in the transcript; `speak` is given to the speech engine instead when
    the written form alone would be read wrongly (Persian "و" is "o" inside numbers, not "va")."""

    text: str
    speak: str = ""
    # A pause, not speech: this many seconds of silence (the text is the punctuation).
    silence_s: float = 0.0

    @property
    def spoken(self) -> str:
        return self.speak or self.text


_FA_NUMBERS = {
    0: "صفر", 1: "یک", 2: "دو", 3: "سه", 4: "چهار", 5: "پنج", 6: "شش", 7: "هفت", 8: "هشت",
    9: "نه", 10: "ده", 11: "یازده", 12: "دوازده", 13: "سیزده", 14: "چهارده", 15: "پانزده",
    16: "شانزده", 17: "هفده", 18: "هجده", 19: "نوزده", 20: "بیست", 30: "سی", 40: "چهل",
    50: "پنجاه", 60: "شصت", 70: "هفتاد", 80: "هشتاد", 90: "نود", 100: "صد", 200: "دویست",
    300: "سیصد", 400: "چهارصد", 500: "پانصد", 600: "ششصد", 700: "هفتصد", 800: "هشتصد",
    900: "نهصد",
}  # fmt: skip
_FA_ORDINALS = {
    1: "یکم", 2: "دوم", 3: "سوم", 4: "چهارم", 5: "پنجم", 6: "ششم", 7: "هفتم", 8: "هشتم",
    9: "نهم", 10: "دهم", 11: "یازدهم", 12: "دوازدهم", 13: "سیزدهم", 14: "چهاردهم",
    15: "پانزدهم", 16: "شانزدهم", 17: "هفدهم", 18: "هجدهم", 19: "نوزدهم", 20: "بیستم",
    30: "سی\u200cام",
}  # fmt: skip
_FA_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip

_EN_NUMBERS = {
    0: "zero", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven",
    8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen",
    14: "fourteen", 15: "fifteen", 16: "sixteen", 17: "seventeen", 18: "eighteen",
    19: "nineteen", 20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty",
    70: "seventy", 80: "eighty", 90: "ninety",
}  # fmt: skip
_EN_ORDINALS = {
    1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
    8: "eighth", 9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth",
    14: "fourteenth", 15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth",
    19: "nineteenth", 20: "twentieth", 30: "thirtieth",
}  # fmt: skip
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Russian cardinals whose form does not depend on gender; 1 and 2 are listed below.
_RU_NUMBERS = {
    0: "ноль", 3: "три", 4: "четыре", 5: "пять", 6: "шесть", 7: "семь", 8: "восемь",
    9: "девять", 10: "десять", 11: "одиннадцать", 12: "двенадцать", 13: "тринадцать",
    14: "четырнадцать", 15: "пятнадцать", 16: "шестнадцать", 17: "семнадцать",
    18: "восемнадцать", 19: "девятнадцать", 20: "двадцать", 30: "тридцать", 40: "сорок",
    50: "пятьдесят", 60: "шестьдесят", 70: "семьдесят", 80: "восемьдесят", 90: "девяносто",
    100: "сто", 200: "двести", 300: "триста", 400: "четыреста", 500: "пятьсот",
    600: "шестьсот", 700: "семьсот", 800: "восемьсот", 900: "девятьсот",
}  # fmt: skip
_RU_GENDERED = {"1_m": "один", "1_f": "одна", "1_n": "одно", "2_m": "два", "2_f": "две"}
# Day of the month: neuter nominative ("шестое [число]").
_RU_DAY_ORDINALS = {
    1: "первое", 2: "второе", 3: "третье", 4: "четвёртое", 5: "пятое", 6: "шестое",
    7: "седьмое", 8: "восьмое", 9: "девятое", 10: "десятое", 11: "одиннадцатое",
    12: "двенадцатое", 13: "тринадцатое", 14: "четырнадцатое", 15: "пятнадцатое",
    16: "шестнадцатое", 17: "семнадцатое", 18: "восемнадцатое", 19: "девятнадцатое",
    20: "двадцатое", 30: "тридцатое",
}  # fmt: skip
# Year: masculine genitive ("[две тысячи] двадцать четвёртого года").
_RU_YEAR_ORDINALS = {
    1: "первого", 2: "второго", 3: "третьего", 4: "четвёртого", 5: "пятого", 6: "шестого",
    7: "седьмого", 8: "восьмого", 9: "девятого", 10: "десятого", 11: "одиннадцатого",
    12: "двенадцатого", 13: "тринадцатого", 14: "четырнадцатого", 15: "пятнадцатого",
    16: "шестнадцатого", 17: "семнадцатого", 18: "восемнадцатого", 19: "девятнадцатого",
    20: "двадцатого", 30: "тридцатого", 40: "сорокового", 50: "пятидесятого",
    60: "шестидесятого", 70: "семидесятого", 80: "восьмидесятого", 90: "девяностого",
    100: "сотого", 200: "двухсотого", 300: "трёхсотого", 400: "четырёхсотого",
    500: "пятисотого", 600: "шестисотого", 700: "семисотого", 800: "восьмисотого",
    900: "девятисотого", 1000: "тысячного", 2000: "двухтысячного", 3000: "трёхтысячного",
    4000: "четырёхтысячного", 5000: "пятитысячного", 6000: "шеститысячного",
    7000: "семитысячного", 8000: "восьмитысячного", 9000: "девятитысячного",
}  # fmt: skip
_RU_MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
# Nouns after a number: (one, few, many) as in 1 рубль, 2 рубля, 5 рублей.
_RU_FORMS = {
    "scale/thousand": ("тысяча", "тысячи", "тысяч"),
    "scale/million": ("миллион", "миллиона", "миллионов"),
    "scale/billion": ("миллиард", "миллиарда", "миллиардов"),
    "scale/trillion": ("триллион", "триллиона", "триллионов"),
    "unit/rial": ("риал", "риала", "риалов"),
    "unit/rouble": ("рубль", "рубля", "рублей"),
    "unit/hour": ("час", "часа", "часов"),
    "unit/minute": ("минута", "минуты", "минут"),
}


def _named(prefix: str, texts: Mapping[Any, str]) -> dict[str, Word]:
    """One fragment per entry of a table, named `<prefix><key>`."""
    return {f"{prefix}{key}": Word(text) for key, text in texts.items()}


def _months(prefix: str, names: tuple[str, ...]) -> dict[str, Word]:
    return _named(prefix, dict(enumerate(names, start=1)))


def _persian() -> dict[str, Word]:
    words = _named("fa/num/", _FA_NUMBERS) | _named("fa/ord/", _FA_ORDINALS)
    words |= _months("fa/month/", _FA_MONTHS)
    words |= _named(
        "fa/",
        {
            "scale/thousand": "هزار",
            "scale/million": "میلیون",
            "scale/billion": "میلیارد",
            "scale/trillion": "تریلیون",
        },
    )
    # Read aloud, "و" between number words is the vowel "o" (sad-o bist-o panj); the
    # damma alone makes espeak say exactly that.
    words["fa/conj/o"] = Word("و", speak="\u064f")
    words |= _named(
        "fa/unit/", {"rial": "ریال", "rouble": "روبل", "hour": "ساعت", "minute": "دقیقه"}
    )
    return words


def _english() -> dict[str, Word]:
    words = _named("en/num/", _EN_NUMBERS) | _named("en/ord/", _EN_ORDINALS)
    words |= _months("en/month/", _EN_MONTHS)
    words |= _named(
        "en/",
        {
            "scale/hundred": "hundred",
            "scale/thousand": "thousand",
            "scale/million": "million",
            "scale/billion": "billion",
            "scale/trillion": "trillion",
            "unit/rial_one": "rial",
            "unit/rial_many": "rials",
            "unit/rouble_one": "rouble",
            "unit/rouble_many": "roubles",
            "word/oh": "oh",
            "word/am": "a.m.",
            "word/pm": "p.m.",
            "word/noon": "noon",
            "word/midnight": "midnight",
        },
    )
    return words


def _russian() -> dict[str, Word]:
    words = _named("ru/num/", _RU_NUMBERS) | _named("ru/num/", _RU_GENDERED)
    words |= _named("ru/ord/", {f"{n}_n": text for n, text in _RU_DAY_ORDINALS.items()})
    words |= _named("ru/ord/", {f"{n}_gen": text for n, text in _RU_YEAR_ORDINALS.items()})
    words |= _named(
        "ru/month/", {f"{i}_gen": text for i, text in enumerate(_RU_MONTHS_GENITIVE, start=1)}
    )
    for stem, forms in _RU_FORMS.items():
        words |= _named(f"ru/{stem}_", dict(zip(("one", "few", "many"), forms, strict=True)))
    words["ru/word/year_gen"] = Word("года")
    return words


def _pauses() -> dict[str, Word]:
    # Between the groups of a phone number or code ("0912 123 4567").
    commas = {"fa": "،", "en": ",", "ru": ","}
    return {f"{lang}/pause/group": Word(commas[lang], silence_s=0.3) for lang in LANGUAGES}


_WORDS: Mapping[str, Word] = MappingProxyType(_persian() | _english() | _russian() | _pauses())


def words(lang: str | None = None) -> Mapping[str, Word]:
    """Every word fragment (of one language, or of all), by fragment name."""
    if lang is None:
        return _WORDS
    check_language(lang)
    prefix = f"{lang}/"
    return MappingProxyType({name: w for name, w in _WORDS.items() if name.startswith(prefix)})


def word(name: str) -> Word:
    try:
        return _WORDS[name]
    except KeyError:
        raise KeyError(f"no word fragment {name!r} in prompts.vocabulary") from None


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not spoken here; expected one of fa, en, ru")
    return lang
