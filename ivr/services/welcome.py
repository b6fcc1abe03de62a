"""The start of every call: recognise the caller's number, let them pick a language (the one
on their file, else Persian, when they press nothing), greet them (by name only when the
settings allow it on caller ID alone), and say when the centre is closed (self-service still
works, and 9 leaves a callback request)."""

from __future__ import annotations

from collections.abc import Awaitable

from customer_file.views import CustomerSummary
from ivr.engine import Call, ServiceUnavailable
from ivr.input import AgentRequested
from ivr.services.identity import identify
from ivr.session import BY_CALLER_ID
from prompts.utterance import Utterance


async def recognised(
    call: Call, lookup: Awaitable[CustomerSummary | None] | None
) -> CustomerSummary | None:
    """The answer of a lookup by number (started earlier, or now): identify the caller."""
    if lookup is None:
        return None
    try:
        customer = await call.lookup("customer_by_phone", lookup)
    except ServiceUnavailable:
        return None  # unrecognised is fine: the menus work for anyone
    if customer is not None:
        if not any(item["field"] == "language" for item in call.session.inputs):
            call.session.language = customer.language  # unless the caller chose one
        identify(call, customer, by=BY_CALLER_ID)
    return customer


async def run(call: Call) -> None:
    session = call.session
    session.enter("welcome")
    # Looked up while the language choice plays (it is said in every language anyway).
    number = session.caller_number
    lookup = call.background(call.customers.customer_by_phone(number)) if number else None
    try:
        await choose_language(call)
    finally:
        # Even when the caller asked for an agent right away: the queue depends on who it is.
        customer = await recognised(call, lookup)
    if customer is not None and session.customer and call.facilities.greet_by_caller_id:
        # Off unless the insurer asks: caller ID can be spoofed, and the greeting would tell
        # a stranger whose phone they claim to be calling from.
        await call.say("welcome", "hello", await call.spoken(session.customer.name))
    else:
        await call.say("welcome")
    if not call.facilities.hours.is_open(session.clock()):
        await call.say("outside_hours", *opening_hours(call))


async def choose_language(call: Call) -> None:
    choice = call.book.languages
    # The choice is offered in each language, in that language, Persian first.
    prompt = Utterance.join(
        call.voice.phrase(choice.prompt, language)
        for language in dict.fromkeys(choice.keys.values())
    )
    call.session.said(prompt.text)
    key = await call.channel.play(prompt)
    if key is None:
        key = await call.channel.wait_for_digit(choice.timeout_ms)
    if key is not None and key in choice.keys:
        call.session.language = choice.keys[key]
        call.session.keyed("language", key)
    elif key == call.book.behaviour.agent_key:
        raise AgentRequested
    elif key is not None and key.isdigit():
        # A caller who knows the menus keys their choice straight away: keep it for the menu.
        call.keep_key(key)


def opening_hours(call: Call) -> list[Utterance]:
    """ "We are open from 8:00 until 16:00" for today's (or the next working day's) hours."""
    hours = call.facilities.hours
    opening = hours.next_opening(call.session.clock())
    span = hours.span_on(opening.date())
    if span is None:
        return []
    return [
        call.utter("opening_hours_from"),
        call.time(span[0]),
        call.utter("opening_hours_until"),
        call.time(span[1]),
    ]
