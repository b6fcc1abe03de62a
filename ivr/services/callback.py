"""A callback request: a task for an expert to call the caller back (agents see it in their
list), confirmed with its tracking number. Offered on key 9, and to callers who ask for an
agent outside opening hours."""

from __future__ import annotations

from ivr.engine import Call


async def run(call: Call, *, kind: str = "callback", policy_number: str | None = None) -> str:
    customer = call.session.customer
    tracking = await call.lookup(
        "callback",
        call.customers.create_callback_task(
            kind,
            call.session.caller_number or "",
            customer_id=customer.customer_id if customer else None,
            policy_number=policy_number,
            linkedid=call.session.linkedid,
            # No note: the desktop names the kind in the agent's language; a note is a
            # person's words, and an English sentence here reached Persian desktops as is.
        ),
    )
    call.session.looked("callback_task", tracking, task=kind)
    confirmation = "renewal_registered" if kind == "renewal" else "callback_registered"
    await call.say(confirmation, "tracking_number_is", call.digits(tracking))
    return tracking


async def request(call: Call) -> None:
    await run(call)
