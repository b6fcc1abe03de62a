"""Checking who the caller is before saying anything private: a secret (PIN, last digits of the
national ID) asked until it is right or the lockout limit is reached, every failure counted per
calling number and per identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from customer_file.views import CustomerSummary
from interactions.outcomes import Outcome
from ivr.engine import Call, ServiceUnavailable
from ivr.session import BY_PIN, KnownCaller

TEHRAN = ZoneInfo("Asia/Tehran")


class LockedOut(Exception):
    """Too many wrong secrets: the caller has been told and the service ends."""


async def check_secret(
    call: Call,
    identity: str,
    input_name: str,
    verify: Callable[[str], Awaitable[bool]],
    wrong_prompt: str = "pin_wrong",
) -> None:
    """Ask for the secret until it is right; raises LockedOut once the limit is reached.

    Each try is counted before `verify` runs (atomically, across servers), so parallel calls
    cannot check more secrets than the limit; and one call gets no more tries than the limit
    over every identity it names, even from a withheld number."""
    pins = call.facilities.pins
    caller = call.session.caller_number
    if await pins.locked(caller, identity) or _wrong_secrets(call) >= pins.max_failures:
        await _locked(call, identity)
    while True:
        secret = await call.ask(input_name)
        async with pins.attempt(caller, identity) as attempt:
            if not attempt.admitted:
                await _locked(call, identity)
            try:
                right = await call.lookup("verify", verify(secret))
            except ServiceUnavailable:
                await pins.given_up(attempt)  # nothing was learnt: the try is not lost
                raise
            if right:
                await pins.succeeded(caller, identity, attempt)
                return
        call.session.looked("wrong_secret", identity.split(":", 1)[0])
        # Should the caller leave now, the call ends not verified (a later right secret
        # still delivers: the service says so itself).
        call.not_served(Outcome.NOT_VERIFIED, identity.split(":", 1)[0])
        if pins.exhausted(attempt) or _wrong_secrets(call) >= pins.max_failures:
            await _locked(call, identity)
        await call.say(wrong_prompt)


def _wrong_secrets(call: Call) -> int:
    return sum(1 for item in call.session.looked_up if item["kind"] == "wrong_secret")


async def _locked(call: Call, identity: str) -> None:
    await call.say("pin_locked")
    call.session.looked("lockout", identity.split(":", 1)[0])
    call.not_served(Outcome.LOCKED_OUT, identity.split(":", 1)[0])
    raise LockedOut(identity)


def identify(call: Call, customer: CustomerSummary, *, by: str) -> None:
    """The caller is `customer`, identified `by` caller ID or a checked secret (BY_PIN); the
    record's "customer" entry says which, and a secret checked later upgrades it."""
    known = call.session.customer
    if by != BY_PIN and known is not None and known.customer_id == customer.id:
        return  # never downgraded: a verified caller stays verified
    call.session.identify(
        KnownCaller(
            customer_id=customer.id,
            name=display_name(customer, call.language),
            tier=customer.tier,
            language=customer.language,
            identified_by=by,
        )
    )
    _note_customer(call, customer.id, by)


def verified(call: Call) -> None:
    """The customer already recognised by number has now proved it with a secret."""
    known = call.session.customer
    if known is not None and not known.verified:
        call.session.identify(replace(known, identified_by=BY_PIN))
        _note_customer(call, known.customer_id, BY_PIN)


def _note_customer(call: Call, customer_id: int, by: str) -> None:
    for item in call.session.looked_up:
        if item["kind"] == "customer" and item["ref"] == str(customer_id):
            item["identified_by"] = by
            return
    call.session.looked("customer", str(customer_id), identified_by=by)


def display_name(customer: CustomerSummary, language: str) -> str:
    if language == "fa":
        return customer.name_fa or customer.name_latin
    return customer.name_latin or customer.name_fa


def tehran(at: datetime) -> datetime:
    """An instant on Tehran's clock (callers hear local dates)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(TEHRAN)
