"""What agents may dial from the desktop (click-to-call and transfers): the number as the
dialplan will see it, and the allow-list of dialplan patterns it must match.

Patterns are written as in Asterisk's dialplan, which is what the people who configure a
contact centre already read: `_` starts a pattern, `X` is any digit, `Z` 1-9, `N` 2-9,
`[1-8]` a set or range, `.` one or more of anything, `!` zero or more. The default lets
agents reach each other, the queues and domestic landlines and mobiles: a leaked or careless
desktop session cannot call premium or international numbers (toll fraud).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from customer_file.identifiers import ascii_digits

_DIALLABLE = re.compile(r"^\+?[0-9]{2,20}$")
_PATTERN_PARTS = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}


def pattern(text: str) -> re.Pattern[str]:
    """One dialplan pattern (or a literal extension) as a regular expression."""
    if not text.startswith("_"):
        if not text.isdigit():
            raise ValueError(f"dial pattern {text!r}: digits, or a pattern starting with _")
        return re.compile(re.escape(text) + r"\Z")
    out: list[str] = []
    rest = text[1:].upper()
    while rest:
        head = rest[0]
        if head == "[":
            end = rest.find("]")
            if end < 2 or not re.fullmatch(r"[0-9\-]+", rest[1:end]):
                raise ValueError(f"dial pattern {text!r}: a set is digits and ranges like [1-8]")
            out.append(rest[: end + 1])
            rest = rest[end + 1 :]
            continue
        if head in _PATTERN_PARTS:
            out.append(_PATTERN_PARTS[head])
        elif head.isdigit() or head in "*#":
            out.append(re.escape(head))
        else:
            raise ValueError(
                f"dial pattern {text!r}: {head!r} is not X, Z, N, [..], ., ! or a digit"
            )
        rest = rest[1:]
    return re.compile("".join(out) + r"\Z")


class DialPolicy:
    def __init__(self, patterns: Iterable[str], region: str) -> None:
        self.patterns = [pattern(text) for text in patterns]
        self.region = region

    def dialled(self, typed: object) -> str | None:
        """The number as the dialplan will dial it; None if it is not a number at all.

        "+98 912 ..." in the home country becomes the national "0912...", so one pattern
        covers both ways of typing it; any other "+" becomes the international prefix 00."""
        number = ascii_digits(re.sub(r"[\s\-()]", "", str(typed)))
        if not _DIALLABLE.match(number):
            return None
        if number.startswith("+"):
            number = self._national(number) or "00" + number[1:]
        return number

    def allows(self, dialled: str) -> bool:
        return any(compiled.match(dialled) for compiled in self.patterns)

    def _national(self, e164: str) -> str | None:
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return None
        home = phonenumbers.country_code_for_region(self.region)
        if parsed.country_code != home:
            return None
        prefix = phonenumbers.PhoneMetadata.metadata_for_region(self.region)
        trunk = prefix.national_prefix if prefix is not None else ""
        return f"{trunk or ''}{parsed.national_number}"
