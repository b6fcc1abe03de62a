"""How the agent's search box finds customers by name: each word typed is the start of a
given or family name, in Persian or Latin script, looked up by index range."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from integrations.customer_file.customers import Customer
from integrations.customer_file.rows import SUMMARY_COLUMNS

# Persian text arrives typed on Arabic keyboards too: the same letter, another code point.
PERSIAN_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه"})


def normalize_persian(text: str) -> str:
    """Persian letters for their Arabic look-alikes, single spaces; ZWNJ is kept (it is
    part of names such as نیک‌نام)."""
    return " ".join(text.translate(PERSIAN_LETTERS).split())


def prefix_range(column: Any, prefix: str) -> Any:
    """`column` starts with `prefix`, as a range an ordinary index serves on SQLite and
    PostgreSQL alike (LIKE 'x%' uses an index only under some collations)."""
    # The next code point after the last character: past U+D7FF comes the surrogate block
    # (no database stores it), and after U+10FFFF nothing, so the bound moves one left.
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:
        return column >= prefix
    last = ord(stem[-1]) + 1
    upper = stem[:-1] + chr(0xE000 if 0xD800 <= last <= 0xDFFF else last)
    return and_(column >= prefix, column < upper)


def name_probes(word: str) -> list[tuple[Any, str]]:
    """(name column, prefix) pairs that can hold `word`. Latin names are stored capitalised
    as people write them, while agents type any case; Persian has no case."""
    if word.isascii():
        variants = sorted({word, word.lower(), word.capitalize(), word.upper()})
        columns = (Customer.family_name_latin, Customer.given_name_latin)
        return [(column, variant) for column in columns for variant in variants]
    return [(Customer.family_name_fa, word), (Customer.given_name_fa, word)]


def name_searches(words: list[str]) -> list[Any]:
    """Each word typed is the start of a given or family name. The longest word is looked up
    by index range, one statement per column, each walking its index in order and stopping
    at the limit (an OR across columns would make PostgreSQL collect every match first);
    the other words filter the rows found."""
    probe = max(words, key=len)
    rest = list(words)
    rest.remove(probe)
    filters = [
        or_(*(prefix_range(column, prefix) for column, prefix in name_probes(word)))
        for word in rest
    ]
    return [
        select(*SUMMARY_COLUMNS)
        .where(prefix_range(column, prefix), *filters)
        # The index's own order, so the scan stops at the limit (adding `id` would make
        # PostgreSQL sort every match of a common name first).
        .order_by(column)
        for column, prefix in name_probes(probe)
    ]
