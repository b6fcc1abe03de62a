"""Numbers, money amounts and digit strings as words, in Persian, English and Russian.

Pure functions: each returns an `Utterance` made of fragments from `prompts.vocabulary`.
Persian joins every part with "و" (1,250,000 → یک میلیون و دویست و پنجاه هزار) and says
"هزار", not "یک هزار", for a thousands group of one (as num2words does); Russian agrees
1 and 2 with the noun's gender and picks the noun's form from the number (1 рубль, 2 рубля,
5 рублей, одна тысяча); English says "one hundred twenty-five" (no "and").
"""

from __future__ import annotations

from typing import Literal

from customer_file.identifiers import ascii_digits
from prompts.utterance import Utterance
from prompts.vocabulary import check_language, word

Gender = Literal["m", "f", "n"]
PluralCategory = Literal["one", "few", "many"]
Currency = Literal["rial", "rouble"]

# Rial amounts are large (a car claim is billions); stop below a quadrillion, which no
# vocabulary here can name.
MAX_NUMBER = 10**15 - 1
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))

# Separators callers see in printed codes and phone numbers; they are not read aloud.
_SILENT = frozenset(" -")


def fragment(name: str) -> Utterance:
    """One word fragment as an utterance."""
    return Utterance(text=word(name).text, fragments=(name,))


def say_number(n: int, lang: str, gender: Gender = "m") -> Utterance:
    """The cardinal number `n` (0 to 999 trillion). `gender` matters in Russian only."""
    check_language(lang)
    _check_range(n)
    if lang == "fa":
        return _persian(n)
    if lang == "en":
        return _english(n)
    return _russian(n, gender)


def say_amount(amount_rials: int, lang: str, currency: Currency = "rial") -> Utterance:
    """A money amount with its currency word: "دویست و پنجاه ریال", "two hundred fifty rials",
    "двести пятьдесят риалов". Amounts are whole units (Rials have no subunit in use)."""
    check_language(lang)
    _check_range(amount_rials)
    if lang == "fa":
        return say_number(amount_rials, "fa") + fragment(f"fa/unit/{currency}")
    if lang == "en":
        form = "one" if amount_rials == 1 else "many"
        return say_number(amount_rials, "en") + fragment(f"en/unit/{currency}_{form}")
    noun = fragment(f"ru/unit/{currency}_{plural_category(amount_rials)}")
    return say_number(amount_rials, "ru", "m") + noun


def say_digits(digits: str, lang: str) -> Utterance:
    """A tracking code or phone number read digit by digit ("۰۹۱۲" → صفر نه یک دو).

    Latin, Persian and Arabic-Indic digits are read; a space or dash between groups is a short
    pause ("0912 123 4567"); anything else is a ValueError (a code with letters needs its own
    reading rules).
    """
    check_language(lang)
    groups: list[list[Utterance]] = [[]]
    for position, char in enumerate(digits):
        if char in _SILENT:
            if groups[-1]:
                groups.append([])
            continue
        digit = ascii_digits(char)  # Persian ۰..۹ and Arabic-Indic ٠..٩ read as digits too
        if not (digit.isascii() and digit.isdigit()):
            raise ValueError(
                f"cannot read {char!r} at position {position} of {digits!r} as a digit"
            )
        groups[-1].append(_digit(int(digit), lang))
    spoken = [Utterance.join(group) for group in groups if group]
    if not spoken:
        raise ValueError(f"{digits!r} has no digits to read")
    pause = fragment(f"{lang}/pause/group")
    said = spoken[0]
    for group in spoken[1:]:
        said = Utterance(
            text=f"{said.text}{pause.text} {group.text}",
            fragments=(*said.fragments, *pause.fragments, *group.fragments),
        )
    return said


def plural_category(n: int) -> PluralCategory:
    """Russian noun form after `n`: one (1, 21, 101), few (2-4, 22-24), many (0, 5-20, 25...)."""
    last_two = n % 100
    last = n % 10
    if last == 1 and last_two != 11:
        return "one"
    if 2 <= last <= 4 and not 12 <= last_two <= 14:
        return "few"
    return "many"


def _check_range(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected a whole number, got {n!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside the numbers that can be said (0 to {MAX_NUMBER})")


def _digit(d: int, lang: str) -> Utterance:
    if lang == "ru" and d in (1, 2):
        return fragment(f"ru/num/{d}_m")
    return fragment(f"{lang}/num/{d}")


def _groups(n: int) -> list[tuple[int, str]]:
    """`n` split into (value 1..999, scale) from the highest; scale "" is the units group."""
    groups = []
    for size, scale in _SCALES:
        value, n = divmod(n, size)
        if value:
            groups.append((value, scale))
    if n:
        groups.append((n, ""))
    return groups


def _below_hundred(n: int) -> list[int]:
    """Number words under a hundred: [25] → [20, 5], [15] → [15]."""
    if n < 20 or n % 10 == 0:
        return [n]
    return [n - n % 10, n % 10]


# ---------------------------------------------------------------- Persian


def _fa_and(parts: list[Utterance]) -> Utterance:
    joined: list[Utterance] = []
    for part in parts:
        if joined:
            joined.append(fragment("fa/conj/o"))
        joined.append(part)
    return Utterance.join(joined)


def _fa_below_thousand(n: int) -> list[Utterance]:
    hundreds, rest = divmod(n, 100)
    parts = [fragment(f"fa/num/{hundreds * 100}")] if hundreds else []
    if rest:
        parts += [fragment(f"fa/num/{value}") for value in _below_hundred(rest)]
    return parts


def _persian(n: int) -> Utterance:
    if n == 0:
        return fragment("fa/num/0")
    parts = []
    for value, scale in _groups(n):
        if scale == "thousand" and value == 1:
            parts.append(fragment("fa/scale/thousand"))
        elif scale:
            parts.append(_fa_and(_fa_below_thousand(value)) + fragment(f"fa/scale/{scale}"))
        else:
            parts.extend(_fa_below_thousand(value))
    return _fa_and(parts)


# ---------------------------------------------------------------- English


def _en_below_thousand(n: int) -> Utterance:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds:
        parts += [fragment(f"en/num/{hundreds}"), fragment("en/scale/hundred")]
    if rest:
        # "twenty-five" is written with a hyphen but played as two fragments.
        words = (fragment(f"en/num/{value}") for value in _below_hundred(rest))
        parts.append(Utterance.join(words, separator="-"))
    return Utterance.join(parts)


def _english(n: int) -> Utterance:
    if n == 0:
        return fragment("en/num/0")
    parts = []
    for value, scale in _groups(n):
        parts.append(_en_below_thousand(value))
        if scale:
            parts.append(fragment(f"en/scale/{scale}"))
    return Utterance.join(parts)


# ---------------------------------------------------------------- Russian


def _ru_below_thousand(n: int, gender: Gender) -> list[Utterance]:
    hundreds, rest = divmod(n, 100)
    parts = [fragment(f"ru/num/{hundreds * 100}")] if hundreds else []
    for value in _below_hundred(rest) if rest else []:
        if value == 1:
            parts.append(fragment(f"ru/num/1_{gender}"))
        elif value == 2:
            # Neuter "два" is the masculine form.
            parts.append(fragment(f"ru/num/2_{'f' if gender == 'f' else 'm'}"))
        else:
            parts.append(fragment(f"ru/num/{value}"))
    return parts


def _russian(n: int, gender: Gender) -> Utterance:
    if n == 0:
        return fragment("ru/num/0")
    parts: list[Utterance] = []
    for value, scale in _groups(n):
        if scale:
            # Тысяча is feminine (одна тысяча, две тысячи); the larger scales are masculine.
            group_gender: Gender = "f" if scale == "thousand" else "m"
            parts += _ru_below_thousand(value, group_gender)
            parts.append(fragment(f"ru/scale/{scale}_{plural_category(value)}"))
        else:
            parts += _ru_below_thousand(value, gender)
    return Utterance.join(parts)


__all__ = [
    "MAX_NUMBER",
    "fragment",
    "plural_category",
    "say_amount",
    "say_digits",
    "say_number",
]
