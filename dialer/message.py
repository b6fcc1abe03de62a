"""What a campaign call says: "hello" and the person's name, the kind's message, then each of
the target's values after its label, said with the IVR's number, amount and date rules
(Jalali dates in Persian). Pure: the call's route plays what this builds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from ivr.speech import Voice
from prompts.utterance import Utterance

# How each field a kind names is said: (label prompt, how its value is said).
DIGITS, AMOUNT, DATE, TEXT = "digits", "amount", "date", "text"
FIELDS: dict[str, tuple[str | None, str]] = {
    "policy_number": ("campaign_policy_number", DIGITS),
    "claim_code": ("campaign_claim_code", DIGITS),
    "cheque_number": ("cheque_number", DIGITS),
    "shareholder_number": ("campaign_shareholder_number", DIGITS),
    "amount_rials": ("installment_amount", AMOUNT),
    "due_date": ("installment_due_on", DATE),
    "end_date": ("campaign_end_date", DATE),
    "start_date": ("policy_valid_from", DATE),
    "paid_on": ("campaign_paid_on", DATE),
    "meeting_date": ("general_meeting_date", DATE),
    "bank": (None, TEXT),
}
KEYS_PROMPT = "campaign_keys"


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _value(voice: Voice, how: str, value: Any, language: str) -> Utterance | None:
    """The value said its way; None when it cannot be (a bad date, a non-number amount): the
    person then hears the message without it rather than a wrong figure."""
    if how == DIGITS:
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        return voice.digits(digits, language) if digits else None
    if how == AMOUNT:
        try:
            return voice.amount(int(str(value).replace(",", "")), language)
        except ValueError:
            return None
    if how == DATE:
        day = _day(value)
        return None if day is None else voice.date(day, language)
    return voice.free_text(str(value), language)


def message(
    voice: Voice,
    messages: Sequence[str],
    fields: Mapping[str, Any],
    language: str,
    name: Utterance | None = None,
) -> Utterance:
    """The personal message; `name` is the person's name already spoken (or None)."""
    parts = [voice.phrase("hello", language)]
    if name is not None:
        parts.append(name)
    parts += [voice.phrase(key, language) for key in messages]
    for field, value in fields.items():
        if field not in FIELDS or value in (None, ""):
            continue
        label, how = FIELDS[field]
        said = _value(voice, how, value, language)
        if said is None:
            continue
        if label is not None:
            parts.append(voice.phrase(label, language))
        parts.append(said)
    return Utterance.join(parts)
