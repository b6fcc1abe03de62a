"""What a customer's text asks for (pure: no I/O): its keyword in Persian, English or Russian
(«بدهی», "debt", "долг"), the code or number after it in any digits (۷۷۰۰۱۲۳۴, ٧٧٠٠, 7700),
and the language to answer in: the script the keyword was written in.

Texts from phones come with Arabic letters for Persian ones (ي ك), zero-width non-joiners,
tatweels and stray punctuation; all are normalised before matching. A text that is only a
number (of at least MIN_BARE digits) is `number`: the text service looks it up as a claim's
tracking code, a postal code, then a policy number (their lengths differ between insurers)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from customer_file.identifiers import ascii_digits

# Each request and the words that ask for it (compared after normalising, whole words).
KEYWORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "debt": {
        "fa": ("بدهی", "مانده", "بدهکاری", "حساب"),
        "en": ("debt", "balance", "owe"),
        "ru": ("долг", "задолженность", "баланс"),
    },
    "installments": {
        "fa": ("قسط", "اقساط", "سررسید"),
        "en": ("installment", "installments", "instalment", "instalments", "due"),
        "ru": ("взнос", "взносы", "рассрочка"),
    },
    "cheques": {
        "fa": ("چک", "چکها", "چک‌ها"),
        "en": ("cheque", "cheques", "check", "checks"),
        "ru": ("чек", "чеки"),
    },
    "claim": {
        "fa": ("خسارت", "پرونده", "پیگیری"),
        "en": ("claim", "track"),
        "ru": ("убыток", "выплата", "претензия"),
    },
    "policy": {
        "fa": ("بیمه‌نامه", "بیمهنامه", "اصالت", "استعلام"),
        "en": ("policy", "verify", "genuine"),
        "ru": ("полис", "проверка"),
    },
    "renewal": {
        "fa": ("تمدید",),
        "en": ("renew", "renewal"),
        "ru": ("продление", "продлить"),
    },
    "branch": {
        "fa": ("شعبه", "نمایندگی", "شعب"),
        "en": ("branch", "branches", "agency", "office"),
        "ru": ("филиал", "офис", "агентство"),
    },
    "dividend": {
        "fa": ("سود", "سهام"),
        "en": ("dividend", "dividends", "shares"),
        "ru": ("дивиденд", "дивиденды", "акции"),
    },
    "meeting": {
        "fa": ("مجمع", "مصوبات"),
        "en": ("meeting", "resolutions", "agm"),
        "ru": ("собрание", "решения"),
    },
    "stop": {
        "fa": ("لغو", "توقف", "لغو۱۱"),
        "en": ("stop", "unsubscribe", "optout"),
        "ru": ("стоп", "отписаться"),
    },
    "help": {
        "fa": ("راهنما", "کمک", "منو"),
        "en": ("help", "menu", "info"),
        "ru": ("помощь", "меню", "справка"),
    },
}
# Shorter bare numbers are not codes anyone is asked to text.
MIN_BARE = 6

_ARABIC_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ـ": None})
_WORD = re.compile(r"[\w\u200c]+")
# A code as people type it: digits in groups split by spaces or dashes (7700-1234, 7700 1234).
_NUMBER = re.compile(r"(?<!\w)\d(?:[\d \-]*\d)?(?!\w)")


@dataclass(frozen=True)
class Request:
    """What a text asks for: a keyword (one of KEYWORDS', an FAQ topic as `faq:<key>`, or
    `unknown`), the number or code given with it, the language it was written in."""

    keyword: str
    argument: str | None
    language: str | None  # fa, en, ru; None when only digits were sent


def normalise(text: str) -> str:
    """Lower case, Persian letters for Arabic ones, no tatweel, Latin digits, one space."""
    text = unicodedata.normalize("NFKC", text).translate(_ARABIC_LETTERS)
    return " ".join(ascii_digits(text).lower().split())


def script_language(text: str) -> str | None:
    """fa, ru or en by the letters written (Persian first: a Persian text may quote a Latin
    code); None when there are no letters."""
    letters = [char for char in text if char.isalpha()]
    if any("\u0600" <= char <= "\u06ff" or "\ufb50" <= char <= "\ufeff" for char in letters):
        return "fa"
    if any("\u0400" <= char <= "\u04ff" for char in letters):
        return "ru"
    if letters:
        return "en"
    return None


def _lookup() -> dict[str, tuple[str, str]]:
    words: dict[str, tuple[str, str]] = {}
    for keyword, by_language in KEYWORDS.items():
        for language, spellings in by_language.items():
            for spelling in spellings:
                words[normalise(spelling).replace("\u200c", "")] = (keyword, language)
    return words


_WORDS = _lookup()


def parse(text: str, faq_words: dict[str, str] | None = None) -> Request:
    """The request in a text. `faq_words` maps a normalised word to an FAQ topic."""
    clean = normalise(text)
    words = [word.replace("\u200c", "") for word in _WORD.findall(clean)]
    numbers = [re.sub(r"[ \-]", "", found) for found in _NUMBER.findall(clean)]
    argument = max(numbers, key=len) if numbers else None
    language = script_language(clean)
    for word in words:
        found = _WORDS.get(word)
        if found is not None:
            return Request(found[0], argument, found[1])
    for word in words:
        topic = (faq_words or {}).get(word)
        if topic is not None:
            return Request(f"faq:{topic}", argument, language)
    if argument is not None and len(argument) >= MIN_BARE and all(w.isdigit() for w in words):
        return Request("number", argument, language)
    return Request("unknown", argument, language)
