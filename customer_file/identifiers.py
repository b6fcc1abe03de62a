"""Identifiers callers key in and core systems store: Iranian national IDs, company national
IDs, postal codes and phone numbers. Pure functions, no I/O: each either returns the value in
its one canonical form or raises `InvalidIdentifier` naming the field.

Callers key digits on phones, but agents paste them from documents that use Persian
(۰-۹) or Arabic-Indic (٠-٩) digits, dashes and spaces; every function accepts those.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import phonenumbers

from customer_file.views import CustomerRegistration

_LOCAL_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# Separators people type inside identifiers; anything else is a mistake worth reporting.
_SEPARATORS = str.maketrans("", "", " -_.\u200c\u200f\u200e\u00a0()/")


class InvalidIdentifier(ValueError):
    """A value is not a valid identifier. `field` names it for the message a caller or agent
    hears; `value` is already masked when the field is a national ID, so the exception can be
    logged or shown without leaking it."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {value!r}: {reason}")


def accepted_by(validate: Callable[[str], str]) -> Callable[[str], bool]:
    """A yes-or-no test from a rule: whether `validate` takes the value (the IVR's check of
    what a caller keyed, before it asks again)."""

    def accepts(value: str) -> bool:
        try:
            validate(value)
        except InvalidIdentifier:
            return False
        return True

    return accepts


def ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as ASCII digits; other characters unchanged."""
    return text.translate(_LOCAL_DIGITS)


def compact_digits(text: str) -> str:
    """A code as keyed or typed (`۵۵۵۰-۱۲۳۴`, `5550 1234`) -> `55501234`: tracking codes,
    shareholder numbers and IDs looked up as the caller or agent gave them."""
    return "".join(ascii_digits(text).replace("-", " ").split())


def _digits_only(field: str, value: str, shown: str) -> str:
    cleaned = ascii_digits(str(value)).translate(_SEPARATORS)
    if not cleaned:
        raise InvalidIdentifier(field, shown, "is empty")
    if not cleaned.isascii() or not cleaned.isdigit():
        raise InvalidIdentifier(field, shown, "must contain digits only")
    return cleaned


def mask_digits(value: str, keep_start: int = 3, keep_end: int = 3) -> str:
    """`0012345678` -> `001****678`: enough to tell records apart, not enough to reuse."""
    text = ascii_digits(str(value))
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[-keep_end:]


# --- Iranian national ID (کد ملی) -------------------------------------------------------


def national_id_check_digit(first_nine: str) -> int:
    """The tenth digit: weights 10..2 over the first nine, sum mod 11; remainders 0 and 1 are
    the digit itself, others give 11 - remainder."""
    total = sum(int(digit) * (10 - position) for position, digit in enumerate(first_nine))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def validate_national_id(value: str, field: str = "national_id") -> str:
    """The 10-digit national ID, or InvalidIdentifier (the value in the error is masked)."""
    shown = mask_digits(str(value))
    digits = _digits_only(field, str(value), shown)
    if len(digits) != 10:
        raise InvalidIdentifier(field, shown, f"must be 10 digits, got {len(digits)}")
    # 1111111111 and friends pass the check digit but are never issued.
    if len(set(digits)) == 1:
        raise InvalidIdentifier(field, shown, "all digits are the same")
    if national_id_check_digit(digits[:9]) != int(digits[9]):
        raise InvalidIdentifier(field, shown, "check digit does not match")
    return digits


is_valid_national_id = accepted_by(validate_national_id)


# --- Company national ID (شناسه ملی اشخاص حقوقی) --------------------------------------

_COMPANY_WEIGHTS = (29, 27, 23, 19, 17)


def company_id_check_digit(first_ten: str) -> int:
    """The eleventh digit: each of the first ten raised by (tenth digit + 2), weighted
    29, 27, 23, 19, 17 in turn, sum mod 11, with 10 written as 0."""
    raise_by = int(first_ten[9]) + 2
    total = sum(
        (int(digit) + raise_by) * _COMPANY_WEIGHTS[position % 5]
        for position, digit in enumerate(first_ten)
    )
    remainder = total % 11
    return 0 if remainder == 10 else remainder


def validate_company_id(value: str, field: str = "company_id") -> str:
    """The 11-digit company national ID, or InvalidIdentifier."""
    shown = mask_digits(str(value))
    digits = _digits_only(field, str(value), shown)
    if len(digits) != 11:
        raise InvalidIdentifier(field, shown, f"must be 11 digits, got {len(digits)}")
    # Digits 4-9 are the registration serial; all zero is never issued.
    if int(digits[3:9]) == 0:
        raise InvalidIdentifier(field, shown, "registration serial is zero")
    if company_id_check_digit(digits[:10]) != int(digits[10]):
        raise InvalidIdentifier(field, shown, "check digit does not match")
    return digits


def validate_national_or_company_id(value: str) -> str:
    """A person's 10-digit national ID or a company's 11-digit one, told apart by length (the
    one box an agent or a core system's lookup takes both in), or InvalidIdentifier."""
    digits = compact_digits(value)
    if len(digits) == 11:
        return validate_company_id(digits)
    return validate_national_id(digits)


is_valid_company_id = accepted_by(validate_company_id)


# --- Iranian postal code (کد پستی) ---------------------------------------------------

# The first five digits name the area, the last five the building. Iran Post never uses 0 or 2
# in the area part (written by hand they are confused with other digits), nor 5 in its fifth
# place, nor 2 in the building part; the area never starts with four equal digits.
_AREA_DIGITS = frozenset("13456789")
_AREA_FIFTH_DIGITS = frozenset("1346789")
_BUILDING_DIGITS = frozenset("013456789")


def validate_postal_code(value: str, field: str = "postal_code") -> str:
    """The 10-digit postal code, or InvalidIdentifier."""
    digits = _digits_only(field, str(value), str(value))
    if len(digits) != 10:
        raise InvalidIdentifier(field, digits, f"must be 10 digits, got {len(digits)}")
    area, building = digits[:5], digits[5:]
    if not set(area[:4]) <= _AREA_DIGITS or area[4] not in _AREA_FIFTH_DIGITS:
        raise InvalidIdentifier(field, digits, "the first five digits never contain 0 or 2")
    if not set(building) <= _BUILDING_DIGITS:
        raise InvalidIdentifier(field, digits, "the last five digits never contain 2")
    if len(set(area[:4])) == 1:
        raise InvalidIdentifier(field, digits, "cannot start with four equal digits")
    return digits


is_valid_postal_code = accepted_by(validate_postal_code)


def postal_area_prefix(postal_code: str) -> str:
    """The area part (first five digits) of a valid postal code."""
    return validate_postal_code(postal_code)[:5]


# --- Phone numbers ------------------------------------------------------------------

# Regions tried, in order, for a number written without a country code that is not valid
# in the default region: Tamas serves Iranian and Russian insurers.
_FALLBACK_REGIONS = ("IR", "RU")


def normalize_phone(value: str, region: str = "IR", field: str = "phone") -> str:
    """Any way a person writes a phone number -> E.164 (`+989121234567`).

    Accepts Iranian `0912...`, `912...`, `021...`, `+98`, `0098`, `98912...` (Asterisk caller
    IDs often drop the +), Russian `8 9xx ...` and `+7`, with Persian digits and separators.
    """
    raw = str(value)
    text = ascii_digits(raw).strip()
    if not text:
        raise InvalidIdentifier(field, raw, "is empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    compact = text.translate(_SEPARATORS)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier(field, raw, "must contain digits only")

    candidates: list[tuple[str, str | None]] = []
    if plus:
        candidates.append(("+" + digits, None))
    else:
        candidates.append((digits, region))
        # Russian habit: the trunk prefix 8 instead of +7 on 11-digit numbers.
        if len(digits) == 11 and digits.startswith("8"):
            candidates.append(("+7" + digits[1:], None))
        candidates.extend((digits, other) for other in _FALLBACK_REGIONS if other != region)
        # Last: a caller ID with its country code but without the + (`4930...`).
        candidates.append(("+" + digits, None))

    for number_text, candidate_region in candidates:
        try:
            number = phonenumbers.parse(number_text, candidate_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidIdentifier(field, raw, "is not a valid phone number")


def try_normalize_phone(value: str | None, region: str = "IR") -> str | None:
    """E.164, or None for what cannot be a phone (anonymous callers, internal extensions)."""
    if not value:
        return None
    try:
        return normalize_phone(value, region)
    except InvalidIdentifier:
        return None


# Parsing a number costs about as much as the rest of a call's set-up, and callers call again.
@functools.lru_cache(maxsize=8192)
def caller_number(raw: str | None, region: str = "IR") -> str | None:
    """A caller ID as every record keeps it: E.164 by `normalize_phone`'s rule (so the IVR's
    record and the agent's popup agree on the number), or as Asterisk gave it when it is not
    a phone number (`anonymous`, an internal extension)."""
    if not raw:
        return None
    return try_normalize_phone(raw, region) or raw


# --- A registration's identifiers -----------------------------------------------------


def canonical_registration(
    registration: CustomerRegistration, region: str = "IR"
) -> CustomerRegistration:
    """The registration with its identifiers in their canonical forms (phones in E.164, each
    once), as every adapter stores or sends them; InvalidIdentifier names a malformed one."""
    r = registration
    return dataclasses.replace(
        r,
        national_id=validate_national_id(r.national_id) if r.national_id else None,
        company_id=validate_company_id(r.company_id) if r.company_id else None,
        phones=tuple(dict.fromkeys(normalize_phone(p, region) for p in r.phones)),
        postal_code=validate_postal_code(r.postal_code) if r.postal_code else None,
    )
