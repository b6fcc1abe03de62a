"""A claim reported by email, read from the letter: its line of business (the words of
email_claims.yaml, the subject before the body, else the line of the policy it names), the
policy number and phone number it gives, its attachments (photos, the police report). Pure:
the letter in, a `ReportedClaim` out; email_inbound.py opens the case and the experts' task."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES = Path(__file__).with_name("email_claims.yaml")
_PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# A policy number as insurers print it: Latin letters, digits, dashes and slashes, a digit
# at least ("BN-1403-5567", "1403/120/5567"); after a word that says it is one.
_POLICY = re.compile(
    r"(?:بیمه[‌ ]?نامه|policy(?: number| no\.?)?|полис[а-я]*)\s*[:#№]?\s*"
    r"((?=[A-Za-z/-]*\d)[A-Za-z0-9][A-Za-z0-9/-]{1,30}[A-Za-z0-9])",
    re.IGNORECASE,
)
# An Iranian mobile or landline, or any number in international form.
_PHONE = re.compile(r"(?<![\d])(\+\d{10,14}|0\d{10})(?![\d])")
_SPAN = re.compile(r"^(\d+)\s*([mhd])$")
_MAX_SUMMARY = 400


class RulesError(ValueError):
    """email_claims.yaml is wrong; the message says where."""


@dataclass(frozen=True)
class LineRule:
    line: str
    team: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class ClaimRules:
    lines: tuple[LineRule, ...]
    default_team: str
    case_type: str
    reason: str
    first_response: timedelta

    def team_for(self, line: str | None) -> str:
        for rule in self.lines:
            if rule.line == line:
                return rule.team
        return self.default_team

    def line_in(self, text: str) -> str | None:
        """The first line whose word appears in `text`; longer words first, so "بدنه شناور"
        (marine) is not read as "بدنه" (motor)."""
        folded = text.casefold()
        words = sorted(
            ((word.casefold(), rule.line) for rule in self.lines for word in rule.words),
            key=lambda pair: -len(pair[0]),
        )
        for word, line in words:
            if _has_word(folded, word):
                return line
        return None


def _has_word(text: str, word: str) -> bool:
    # A word, not a part of one: "car" is not in "card"; Persian and Cyrillic words may take
    # suffixes ("дтп" in "ДТП,"; "خودرو" in "خودروی"), so only the start is held to a boundary.
    start = r"(?<![\w])"
    end = r"(?![\w])" if word.isascii() else ""
    return re.search(start + re.escape(word) + end, text) is not None


@cache
def load(path: Path = RULES) -> ClaimRules:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"{path}: {error}") from error
    try:
        lines = tuple(
            LineRule(name, str(rule["team"]), tuple(str(word) for word in rule["words"]))
            for name, rule in data["lines"].items()
        )
        span = _SPAN.match(str(data.get("first_response", "4h")))
        if span is None:
            raise RulesError(f"{path}: first_response must look like 30m, 4h or 1d")
        amount, unit = int(span.group(1)), span.group(2)
        first_response = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(
            unit, timedelta(days=amount)
        )
        return ClaimRules(
            lines=lines,
            default_team=str(data["default_team"]),
            case_type=str(data.get("case_type", "callback")),
            reason=str(data.get("reason", "claim")),
            first_response=first_response,
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise RulesError(f"{path}: missing or malformed {error}") from error


@dataclass(frozen=True)
class Attached:
    filename: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class ReportedClaim:
    message_id: str
    sender: str  # the From address
    subject: str
    text: str
    line: str | None
    policy_number: str | None
    phone: str | None
    attachments: Sequence[Attached] = field(default_factory=tuple)

    @property
    def summary(self) -> str:
        body = " ".join(self.text.split())
        return f"{self.subject} — {body}"[:_MAX_SUMMARY] if self.subject else body[:_MAX_SUMMARY]


def read_claim(letter: EmailMessage, rules: ClaimRules) -> ReportedClaim:
    subject = " ".join(str(letter.get("Subject", "")).split())
    sender = parseaddr(str(letter.get("From", "")))[1].strip().lower()
    text = _text_of(letter)
    digits = text.translate(_PERSIAN_DIGITS)
    policy = _POLICY.search(f"{subject}\n{digits}".translate(_PERSIAN_DIGITS))
    phone = _PHONE.search(digits)
    return ReportedClaim(
        message_id=str(letter.get("Message-ID", "")).strip(),
        sender=sender,
        subject=subject,
        text=text,
        line=rules.line_in(subject) or rules.line_in(text),
        policy_number=policy.group(1) if policy else None,
        phone=phone.group(1) if phone else None,
        attachments=tuple(_attachments(letter)),
    )


def _text_of(letter: EmailMessage) -> str:
    """The plain-text part, or the HTML part's text with its tags dropped."""
    part = letter.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset: keep what can be read
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_subtype() == "html":
        content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S | re.I)
        content = re.sub(r"<[^>]+>", " ", content)
    return content.strip()


def _attachments(letter: EmailMessage) -> list[Attached]:
    found: list[Attached] = []
    for part in letter.iter_attachments():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = part.get_filename() or f"attachment-{len(found) + 1}"
        found.append(Attached(_safe_name(name), part.get_content_type(), payload))
    return found


def _safe_name(name: str) -> str:
    """A file name that stays in its folder whatever the sender wrote."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    return re.sub(r"[^\w.\- ]", "_", base)[:100] or "attachment"


def lines_of(rules: ClaimRules) -> Mapping[str, str]:
    """Line → team, for the docs and the operators' page."""
    return {rule.line: rule.team for rule in rules.lines}
