"""Identifiers callers key in and agents paste: each has one canonical form or a clear error
naming the field, and a national ID never appears whole in an error."""

from __future__ import annotations

import pytest

from customer_file.identifiers import (
    InvalidIdentifier,
    ascii_digits,
    company_id_check_digit,
    is_valid_company_id,
    is_valid_national_id,
    is_valid_postal_code,
    mask_digits,
    national_id_check_digit,
    normalize_phone,
    postal_area_prefix,
    try_normalize_phone,
    validate_company_id,
    validate_national_id,
    validate_postal_code,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0076229645", "0076229645"),
        ("1583250689", "1583250689"),
        ("۰۰۷۶۲۲۹۶۴۵", "0076229645"),  # Persian digits
        ("٠٠٧٦٢٢٩٦٤٥", "0076229645"),  # Arabic-Indic digits
        ("007-622964-5", "0076229645"),  # as printed on the card
        (" 0076229645 ", "0076229645"),
    ],
)
def test_valid_national_ids_come_back_as_ten_ascii_digits(value: str, expected: str) -> None:
    assert validate_national_id(value) == expected
    assert is_valid_national_id(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0076229646", "check digit"),
        ("1583250680", "check digit"),
        ("1111111111", "all digits are the same"),
        ("0000000000", "all digits are the same"),
        ("12345", "10 digits"),
        ("00762296451", "10 digits"),
        ("00762a9645", "digits only"),
        ("", "empty"),
    ],
)
def test_invalid_national_ids_are_refused_with_the_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_national_id(value)
    assert caught.value.field == "national_id"
    assert reason in caught.value.reason
    assert not is_valid_national_id(value)


def test_the_error_for_a_national_id_never_shows_it_whole() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_national_id("0076229646")
    assert "0076229646" not in str(caught.value)
    assert caught.value.value == "007****646"


def test_check_digit_rule_covers_remainders_below_two() -> None:
    # Sum of weights for 000000001 is 2 -> remainder 2 -> 11 - 2 = 9.
    assert national_id_check_digit("000000001") == 9
    # 100000000 -> 10, remainder 10 -> 1; 000000100 -> 4*1 -> remainder 4 -> 7.
    assert national_id_check_digit("100000000") == 1
    assert national_id_check_digit("000000100") == 7
    # 000000110 -> 4 + 3 = 7 -> 4.  An 11 multiple leaves remainder 0 -> check 0.
    assert national_id_check_digit("000000110") == 4
    assert national_id_check_digit("010000001") == 0  # 9 + 2 = 11


def test_every_generated_national_id_validates() -> None:
    for serial in range(1000, 400000, 997):
        first_nine = f"{serial:09d}"
        candidate = first_nine + str(national_id_check_digit(first_nine))
        if len(set(candidate)) > 1:
            assert is_valid_national_id(candidate)


def test_company_ids_follow_their_own_check_rule() -> None:
    base = "1010165655"
    valid = base + str(company_id_check_digit(base))
    assert validate_company_id(valid) == valid
    wrong = valid[:10] + str((int(valid[10]) + 1) % 10)
    with pytest.raises(InvalidIdentifier) as caught:
        validate_company_id(wrong)
    assert caught.value.field == "company_id"
    assert "check digit" in caught.value.reason


def test_a_company_id_with_a_zero_registration_serial_is_refused() -> None:
    base = "1010000000"
    candidate = base + str(company_id_check_digit(base))
    assert not is_valid_company_id(candidate)


def test_company_id_of_wrong_length_names_the_field() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_company_id("0076229645")
    assert caught.value.field == "company_id"
    assert "11 digits" in caught.value.reason


@pytest.mark.parametrize(
    "value",
    ["1193653471", "۱۱۹۳۶۵۳۴۷۱", "11936-53471", "8134767389", "4513893616"],
)
def test_valid_postal_codes(value: str) -> None:
    assert is_valid_postal_code(value)
    assert len(validate_postal_code(value)) == 10


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1193", "10 digits"),
        ("11936534711", "10 digits"),
        ("1093653471", "0 or 2"),  # 0 in the area part
        ("1123653471", "0 or 2"),  # 2 in the area part
        ("1193553471", "0 or 2"),  # 5 as the fifth digit
        ("1193652471", "never contain 2"),  # 2 in the building part
        ("1111153471", "four equal digits"),
        ("11936x3471", "digits only"),
    ],
)
def test_invalid_postal_codes_are_refused_with_the_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        validate_postal_code(value)
    assert caught.value.field == "postal_code"
    assert reason in caught.value.reason


def test_the_postal_area_is_the_first_five_digits() -> None:
    assert postal_area_prefix("۱۱۹۳۶۵۳۴۷۱") == "11936"


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("09121234567", "+989121234567"),
        ("۰۹۱۲۱۲۳۴۵۶۷", "+989121234567"),
        ("0912 123 4567", "+989121234567"),
        ("9121234567", "+989121234567"),
        ("+98 912 123 4567", "+989121234567"),
        ("00989121234567", "+989121234567"),
        ("989121234567", "+989121234567"),  # caller ID without the +
        ("021-8888-1234", "+982188881234"),
        ("(021) 88881234", "+982188881234"),
        ("8 916 123-45-67", "+79161234567"),  # Russian trunk prefix
        ("+7 916 123 45 67", "+79161234567"),
        ("79161234567", "+79161234567"),
        ("8 (495) 123-45-67", "+74951234567"),
    ],
)
def test_phones_are_normalised_to_e164(written: str, e164: str) -> None:
    assert normalize_phone(written) == e164


@pytest.mark.parametrize("written", ["", "1001", "12", "0912abc4567", "+98 912"])
def test_what_cannot_be_a_phone_is_refused(written: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_phone(written)
    assert caught.value.field == "phone"
    assert try_normalize_phone(written) is None


def test_a_russian_insurer_can_make_russia_the_default_region() -> None:
    assert normalize_phone("9161234567", region="RU") == "+79161234567"


def test_digit_helpers() -> None:
    assert ascii_digits("کد ۱۲۳ و ٤٥٦") == "کد 123 و 456"
    assert mask_digits("0076229645") == "007****645"
    assert mask_digits("1234") == "****"
