"""Reading what a customer's text asks for (pure): keywords in Persian, English and Russian,
Arabic letters and any digits as phones send them, bare numbers, the FAQ."""

from __future__ import annotations

import pytest

from messaging import faq
from messaging.keywords import Request, parse

FAQ_WORDS = faq.load().words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("بدهی", Request("debt", None, "fa")),
        ("  Debt please ", Request("debt", None, "en")),
        ("ДОЛГ", Request("debt", None, "ru")),
        ("خسارت ۷۷۰۰۱۲۳۴", Request("claim", "77001234", "fa")),
        ("خسارت ٧٧٠٠١٢٣٤", Request("claim", "77001234", "fa")),
        ("claim 7700-1234", Request("claim", "77001234", "en")),
        ("۱۱۹۳۶ ۵۳۴۷۱", Request("number", "1193653471", None)),
        ("بيمه‌نامه ١٤٠٣١٠٠٠٢٢٣٣", Request("policy", "140310002233", "fa")),
        ("Полис 140310002233", Request("policy", "140310002233", "ru")),
        ("۱۱۹۳۶۵۳۴۷۱", Request("number", "1193653471", None)),
        ("77001234", Request("number", "77001234", None)),
        ("لغو۱۱", Request("stop", None, "fa")),
        ("STOP", Request("stop", None, "en")),
        ("تمدید", Request("renewal", None, "fa")),
        ("ساعات كاري", Request("faq:hours", None, "fa")),
        ("hello", Request("unknown", None, "en")),
        ("12345", Request("unknown", "12345", None)),
    ],
)
def test_a_texts_keyword_argument_and_language_are_read(text: str, expected: Request) -> None:
    assert parse(text, FAQ_WORDS) == expected


def test_an_faq_word_that_is_also_a_keyword_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    broken = Path(str(tmp_path)) / "faq.yaml"
    broken.write_text(
        "topics:\n  debts:\n    words: [debt]\n    fa: x\n    en: x\n    ru: x\n", encoding="utf-8"
    )
    with pytest.raises(faq.FaqError, match="'debt' is a keyword already"):
        faq.load(broken)
