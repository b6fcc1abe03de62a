"""Putting the caller through to an agent: the queue (priority for gold and VIP), what the
caller did in the menus as channel variables for the agent's popup, and the survey offer.
Outside opening hours the caller hears the hours and can leave a callback request instead."""

from __future__ import annotations

from interactions.outcomes import Outcome
from ivr.engine import Call, ServiceUnavailable
from ivr.services import callback
from ivr.services.welcome import opening_hours
from tamas.asterisk import variables

CALLBACK_KEYS = ("9", "1")


def queue_for(call: Call) -> str:
    queues = call.book.queues
    customer = call.session.customer
    # A number match is enough for the priority queue: a spoofed number gets a shorter wait,
    # never data (docs/security.md, Guessing).
    if customer is not None and customer.tier.lower() in queues.priority_tiers:
        return queues.priority
    return queues.default


def identified(call: Call) -> str:
    """How the caller was identified, for the dialplan and whatever reads the channel: "pin"
    when a secret was checked, "number" when only caller ID matched (spoofable: it recognises
    a number, it never verifies who speaks), "no" otherwise."""
    customer = call.session.customer
    if customer is None:
        return "no"
    return "pin" if customer.verified else "number"


def handoff_variables(call: Call, queue: str, survey: bool) -> dict[str, str]:
    session = call.session
    customer = session.customer
    priority = queue == call.book.queues.priority
    return {
        variables.QUEUE: queue,
        # A priority position too, should the dialplan send everyone to one queue.
        variables.QUEUE_PRIORITY: "10" if priority else "0",
        variables.SURVEY: "yes" if survey else "no",
        variables.LANGUAGE: session.language,
        variables.IDENTIFIED: identified(call),
        variables.CUSTOMER_ID: str(customer.customer_id) if customer else "",
        variables.TIER: customer.tier if customer else "",
        variables.PATH: ">".join(step["menu"] for step in session.menu_path),
        variables.LOOKED_UP: ",".join(
            f"{item['kind']}:{item['ref']}" for item in session.looked_up
        ),
    }


async def run(call: Call) -> None:
    session = call.session
    came_from = session.current_menu
    session.enter("agent")
    if not call.facilities.hours.is_open(session.clock()):
        await _after_hours(call)
        return
    queue = queue_for(call)
    survey = False
    if call.facilities.offer_survey:
        survey = await call.offer("survey_offer", timeout_ms=2000, field="survey_offer")
    for name, value in handoff_variables(call, queue, survey).items():
        await call.channel.set_variable(name, value)
    # The dialplan reads TAMAS_NEXT last: set once everything else is in place.
    await call.channel.set_variable(variables.NEXT, "queue")
    if queue == call.book.queues.priority:
        await call.say("priority_caller", "transfer_to_agent")
    else:
        await call.say("transfer_to_agent")
    session.finish(Outcome.QUEUED, came_from, queue=queue)


async def _after_hours(call: Call) -> None:
    session = call.session
    choice = await call.offer_keys(
        CALLBACK_KEYS, "outside_hours", *opening_hours(call), field="callback_offer"
    )
    if choice is None:
        await call.say("goodbye")
        session.finish(
            Outcome.AFTER_HOURS,
            session.menu_path[-2]["menu"] if len(session.menu_path) > 1 else None,
        )
        return
    try:
        tracking = await callback.run(call)
    except ServiceUnavailable:
        await call.say("service_unavailable")
        session.finish(Outcome.SYSTEM_ERROR, "callback")
        return
    session.finish(Outcome.CALLBACK_REQUESTED, tracking)


async def no_agent(call: Call, queue: str | None) -> None:
    """After the queue gave up (no agent in time, or none logged in): offer a callback."""
    session = call.session
    session.enter("no_agent")
    if await call.offer_keys(CALLBACK_KEYS, "agents_busy", field="callback_offer") is None:
        await call.say("goodbye")
        # The queue gave up on the caller, not the reverse: no agent, and no callback wanted.
        session.finish(Outcome.NO_AGENT, queue, queue=queue)
        return
    tracking = await callback.run(call)
    session.finish(Outcome.CALLBACK_REQUESTED, tracking, queue=queue)
