"""Numbers, amounts and digit strings as words and sound fragments, in fa, en and ru."""

from __future__ import annotations

import random

import pytest
from num2words import num2words

from prompts.numbers import MAX_NUMBER, plural_category, say_amount, say_digits, say_number
from prompts.vocabulary import words

PERSIAN = [
    (0, "صفر"),
    (1, "یک"),
    (5, "پنج"),
    (10, "ده"),
    (11, "یازده"),
    (19, "نوزده"),
    (20, "بیست"),
    (21, "بیست و یک"),
    (99, "نود و نه"),
    (100, "صد"),
    (101, "صد و یک"),
    (110, "صد و ده"),
    (125, "صد و بیست و پنج"),
    (200, "دویست"),
    (999, "نهصد و نود و نه"),
    (1000, "هزار"),
    (1001, "هزار و یک"),
    (2000, "دو هزار"),
    (12345, "دوازده هزار و سیصد و چهل و پنج"),
    (101000, "صد و یک هزار"),
    (1_000_000, "یک میلیون"),
    (1_001_000, "یک میلیون و هزار"),
    (1_250_000, "یک میلیون و دویست و پنجاه هزار"),
    (2_000_000_001, "دو میلیارد و یک"),
    (1_250_000_000_000, "یک تریلیون و دویست و پنجاه میلیارد"),
]

ENGLISH = [
    (0, "zero"),
    (1, "one"),
    (5, "five"),
    (10, "ten"),
    (11, "eleven"),
    (19, "nineteen"),
    (20, "twenty"),
    (21, "twenty-one"),
    (99, "ninety-nine"),
    (100, "one hundred"),
    (101, "one hundred one"),
    (110, "one hundred ten"),
    (200, "two hundred"),
    (999, "nine hundred ninety-nine"),
    (1000, "one thousand"),
    (1001, "one thousand one"),
    (2000, "two thousand"),
    (12345, "twelve thousand three hundred forty-five"),
    (1_000_000, "one million"),
    (1_250_000, "one million two hundred fifty thousand"),
    (2_000_000_001, "two billion one"),
    (1_250_000_000_000, "one trillion two hundred fifty billion"),
]

RUSSIAN = [
    (0, "ноль"),
    (1, "один"),
    (5, "пять"),
    (10, "десять"),
    (11, "одиннадцать"),
    (19, "девятнадцать"),
    (20, "двадцать"),
    (21, "двадцать один"),
    (99, "девяносто девять"),
    (100, "сто"),
    (101, "сто один"),
    (110, "сто десять"),
    (200, "двести"),
    (999, "девятьсот девяносто девять"),
    (1000, "одна тысяча"),
    (1001, "одна тысяча один"),
    (2000, "две тысячи"),
    (5000, "пять тысяч"),
    (12345, "двенадцать тысяч триста сорок пять"),
    (21000, "двадцать одна тысяча"),
    (1_000_000, "один миллион"),
    (1_250_000, "один миллион двести пятьдесят тысяч"),
    (2_000_000_001, "два миллиарда один"),
    (1_250_000_000_000, "один триллион двести пятьдесят миллиардов"),
]


@pytest.mark.parametrize(("n", "text"), PERSIAN)
def test_persian_numbers_join_every_part_with_o(n: int, text: str) -> None:
    assert say_number(n, "fa").text == text


@pytest.mark.parametrize(("n", "text"), ENGLISH)
def test_english_numbers(n: int, text: str) -> None:
    assert say_number(n, "en").text == text


@pytest.mark.parametrize(("n", "text"), RUSSIAN)
def test_russian_numbers_masculine_by_default_and_thousands_feminine(n: int, text: str) -> None:
    assert say_number(n, "ru").text == text


def test_persian_o_is_its_own_fragment_and_numbers_are_word_fragments() -> None:
    assert say_number(1_250_000, "fa").fragments == (
        "fa/num/1",
        "fa/scale/million",
        "fa/conj/o",
        "fa/num/200",
        "fa/conj/o",
        "fa/num/50",
        "fa/scale/thousand",
    )


def test_english_twenty_five_is_written_with_a_hyphen_and_played_as_two_words() -> None:
    said = say_number(25, "en")
    assert said.text == "twenty-five"
    assert said.fragments == ("en/num/20", "en/num/5")


@pytest.mark.parametrize(
    ("n", "gender", "text"),
    [
        (1, "f", "одна"),
        (1, "n", "одно"),
        (2, "f", "две"),
        (2, "n", "два"),
        (22, "f", "двадцать две"),
        (1001, "f", "одна тысяча одна"),
    ],
)
def test_russian_one_and_two_agree_with_the_nouns_gender(n: int, gender: str, text: str) -> None:
    assert say_number(n, "ru", gender).text == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "category"),
    [
        (0, "many"),
        (1, "one"),
        (2, "few"),
        (4, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (21, "one"),
        (22, "few"),
        (25, "many"),
        (101, "one"),
        (111, "many"),
        (1_000_000, "many"),
    ],
)
def test_russian_plural_category(n: int, category: str) -> None:
    assert plural_category(n) == category


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (1, "один рубль"),
        (2, "два рубля"),
        (5, "пять рублей"),
        (11, "одиннадцать рублей"),
        (21, "двадцать один рубль"),
        (1000, "одна тысяча рублей"),
    ],
)
def test_russian_roubles_take_the_form_the_number_asks_for(amount: int, text: str) -> None:
    assert say_amount(amount, "ru", currency="rouble").text == text


@pytest.mark.parametrize(
    ("amount", "lang", "text"),
    [
        (1, "ru", "один риал"),
        (2, "ru", "два риала"),
        (5, "ru", "пять риалов"),
        (21, "ru", "двадцать один риал"),
        (1_250_000, "ru", "один миллион двести пятьдесят тысяч риалов"),
        (1_250_000, "fa", "یک میلیون و دویست و پنجاه هزار ریال"),
        (0, "fa", "صفر ریال"),
        (1, "en", "one rial"),
        (1_250_000, "en", "one million two hundred fifty thousand rials"),
    ],
)
def test_amounts_are_said_in_rials(amount: int, lang: str, text: str) -> None:
    assert say_amount(amount, lang).text == text


def test_caller_hears_a_billion_rial_claim_amount_in_persian() -> None:
    said = say_amount(1_250_000_000_000, "fa")
    assert said.text == "یک تریلیون و دویست و پنجاه میلیارد ریال"
    assert said.fragments[-1] == "fa/unit/rial"


@pytest.mark.parametrize(
    ("digits", "lang", "text"),
    [
        ("09121234567", "fa", "صفر نه یک دو یک دو سه چهار پنج شش هفت"),
        ("۰۹۱۲", "fa", "صفر نه یک دو"),
        ("٠٩١٢", "en", "zero nine one two"),
        ("12-34 56", "ru", "один два, три четыре, пять шесть"),
        ("021-8877 6655", "fa", "صفر دو یک، هشت هشت هفت هفت، شش شش پنج پنج"),
    ],
)
def test_codes_and_phone_numbers_are_read_digit_by_digit(digits: str, lang: str, text: str) -> None:
    assert say_digits(digits, lang).text == text


def test_groups_of_a_phone_number_are_parted_by_a_short_pause() -> None:
    assert say_digits("0912 34", "en").fragments == (
        "en/num/0",
        "en/num/9",
        "en/num/1",
        "en/num/2",
        "en/pause/group",
        "en/num/3",
        "en/num/4",
    )
    assert say_digits(" 12 - ", "en").fragments == ("en/num/1", "en/num/2")


def test_digit_strings_with_letters_or_nothing_to_read_are_refused() -> None:
    with pytest.raises(ValueError, match="'A' at position 2"):
        say_digits("12A4", "fa")
    with pytest.raises(ValueError, match="no digits"):
        say_digits(" - ", "en")


def test_numbers_outside_what_can_be_said_are_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        say_number(-1, "fa")
    with pytest.raises(ValueError, match="outside"):
        say_amount(MAX_NUMBER + 1, "ru")
    with pytest.raises(TypeError):
        say_number(1.5, "en")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not spoken"):
        say_number(1, "de")


def _sample() -> list[int]:
    generator = random.Random(1403)
    return [
        *range(0, 2100),
        *(10**k for k in range(15)),
        *(generator.randrange(10**digits) for digits in range(4, 16) for _ in range(200)),
        MAX_NUMBER,
    ]


@pytest.mark.parametrize("lang", ["fa", "ru"])
def test_words_agree_with_num2words(lang: str) -> None:
    for n in _sample():
        assert say_number(n, lang).text == num2words(n, lang=lang), n


@pytest.mark.parametrize("lang", ["fa", "en", "ru"])
def test_every_fragment_of_every_number_and_amount_is_in_the_vocabulary(lang: str) -> None:
    known = words(lang)
    for n in _sample():
        for said in (say_number(n, lang), say_amount(n, lang), say_number(n, lang, "f")):
            assert set(said.fragments) <= set(known), (n, set(said.fragments) - set(known))
    assert set(say_digits("0123456789", lang).fragments) <= set(known)
    assert set(say_amount(5, lang, currency="rouble").fragments) <= set(known)
