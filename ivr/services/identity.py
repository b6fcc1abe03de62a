"""Checking who the caller is before saying anything private: a secret (PIN, last digits of the
national ID) asked until it is right or the lockout limit is reached, every failure counted per
calling number and per identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from customer_file.views import CustomerSummary
from ivr.engine import Call
from ivr.session import KnownCaller

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
    """Ask for the secret until it is right; raises LockedOut once the limit is reached."""
    pins = call.facilities.pins
    caller = call.session.caller_number
    if await pins.locked(caller, identity):
        await _locked(call, identity)
    while True:
        secret = await call.ask(input_name)
        if await call.lookup("verify", verify(secret)):
            await pins.succeeded(caller, identity)
            return
        call.session.looked("wrong_secret", identity.split(":", 1)[0])
        if await pins.failed(caller, identity):
            await _locked(call, identity)
        await call.say(wrong_prompt)


async def _locked(call: Call, identity: str) -> None:
    await call.say("pin_locked")
    call.session.looked("lockout", identity.split(":", 1)[0])
    raise LockedOut(identity)


def identify(call: Call, customer: CustomerSummary) -> None:
    call.session.identify(
        KnownCaller(
            customer_id=customer.id,
            name=display_name(customer, call.language),
            tier=customer.tier,
            language=customer.language,
        )
    )
    if not any(item["kind"] == "customer" for item in call.session.looked_up):
        call.session.looked("customer", str(customer.id))


def display_name(customer: CustomerSummary, language: str) -> str:
    if language == "fa":
        return customer.name_fa or customer.name_latin
    return customer.name_latin or customer.name_fa


def tehran(at: datetime) -> datetime:
    """An instant on Tehran's clock (callers hear local dates)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(TEHRAN)
