"""Case tracking numbers: nine digits a customer can key on the phone, read out, or text back.

The first digit is 3, so the IVR tells a case from the older complaint (7...) and callback
(5...) numbers; the last is a Luhn check digit, so a mistyped digit or two swapped neighbours
are refused at once instead of finding somebody else's case.
"""

from __future__ import annotations

import secrets

from customer_file.identifiers import compact_digits

CASE_PREFIX = "3"
LENGTH = 9


def luhn_check_digit(digits: str) -> int:
    total = 0
    # From the right, every second digit of the number (check digit included) is doubled;
    # without the check digit yet, that is the rightmost one and every second from it.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def new_tracking_number() -> str:
    body = CASE_PREFIX + "".join(str(secrets.randbelow(10)) for _ in range(LENGTH - 2))
    return body + str(luhn_check_digit(body))


def canonical_tracking_number(text: str) -> str | None:
    """The tracking number as keyed or texted (Persian digits, spaces, dashes), or None when it
    cannot be one of ours."""
    digits = compact_digits(text)
    if len(digits) != LENGTH or not digits.isdigit() or not digits.startswith(CASE_PREFIX):
        return None
    if luhn_check_digit(digits[:-1]) != int(digits[-1]):
        return None
    return digits
