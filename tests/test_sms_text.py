"""How an SMS text is counted and split: GSM-7 or UCS-2, Persian 70 in one part and 67 per
part when split, GSM-7 160/153 with the extension characters counting two, and parts joined
back through their concatenation headers."""

from __future__ import annotations

import pytest

from messaging import sms_text

PERSIAN_LETTER = "ب"


def test_latin_text_is_gsm7_and_persian_or_russian_anywhere_makes_it_ucs2() -> None:
    assert sms_text.encoding("Your claim 12345 is approved @ 10:00") == "gsm7"
    assert sms_text.encoding("Your claim is approved. ممنون") == "ucs2"
    assert sms_text.encoding("Долг: 1000") == "ucs2"
    assert sms_text.encoding("price in € {ok}") == "gsm7"


@pytest.mark.parametrize(
    ("letters", "parts", "remaining"),
    [(70, 1, 0), (71, 2, 63), (134, 2, 0), (135, 3, 66), (1, 1, 69)],
)
def test_persian_takes_70_characters_in_one_part_and_67_in_each_when_split(
    letters: int, parts: int, remaining: int
) -> None:
    counted = sms_text.count(PERSIAN_LETTER * letters)
    assert (counted.encoding, counted.units) == ("ucs2", letters)
    assert (counted.parts, counted.remaining) == (parts, remaining)


@pytest.mark.parametrize(
    ("text", "units", "parts"),
    [("a" * 160, 160, 1), ("a" * 161, 161, 2), ("a" * 306, 306, 2), ("a" * 307, 307, 3),
     ("{" * 80, 160, 1), ("{" * 81, 162, 2), ("€" + "a" * 158, 160, 1)],
)  # fmt: skip
def test_gsm7_takes_160_in_one_part_153_when_split_and_extension_characters_count_two(
    text: str, units: int, parts: int
) -> None:
    counted = sms_text.count(text)
    assert (counted.encoding, counted.units, counted.parts) == ("gsm7", units, parts)


def test_a_part_never_ends_between_an_escape_and_its_character() -> None:
    pieces = sms_text.parts("a" + "[" * 80)  # 161 septets: the 77th "[" would straddle
    assert pieces[0] == "a" + "[" * 76 and pieces[1] == "[" * 4


def test_an_emoji_counts_two_in_ucs2_and_is_never_cut_in_half() -> None:
    assert sms_text.count("😀" * 35).parts == 1
    pieces = sms_text.parts("ب" + "😀" * 35)  # 71 units: split, and 66 + 1 do not fit 67
    assert pieces[0] == "ب" + "😀" * 33 and pieces[1] == "😀" * 2


def test_split_parts_carry_a_concatenation_header_and_join_back() -> None:
    text = "مانده بدهی شما ۱۲٬۰۰۰٬۰۰۰ ریال است؛ قسط بعدی در ۱۴۰۵/۱۰/۰۱. " * 3
    messages = sms_text.short_messages(text, reference=42)
    assert len(messages) == sms_text.count(text).parts == 3
    for number, (body, coding) in enumerate(messages, start=1):
        assert coding == 0x08 and body[:6] == bytes((5, 0, 3, 42, 3, number))
        assert len(body) <= 140  # one SMS's user data
    shuffled = [messages[2][0], messages[0][0], messages[1][0]]
    assert sms_text.join(shuffled, 0x08) == text


def test_gsm7_parts_are_septets_with_escapes_and_decode_back() -> None:
    text = "Balance {EUR} 1000 € " * 10
    messages = sms_text.short_messages(text, reference=7)
    assert all(coding == 0x00 for _, coding in messages)
    assert all(len(body) - 6 <= 153 for body, _ in messages)
    assert sms_text.join([body for body, _ in messages], 0x00) == text


def test_a_text_needing_more_than_255_parts_is_refused() -> None:
    with pytest.raises(sms_text.TextTooLong):
        sms_text.parts(PERSIAN_LETTER * (67 * 255 + 1))
