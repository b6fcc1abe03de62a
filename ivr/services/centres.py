"""Medical centres and claim-payment centres: the list sent by SMS, email or fax on request
(a list of addresses is too long to listen to)."""

from __future__ import annotations

from customer_file.views import CentreView
from interactions.outcomes import Outcome
from ivr.engine import Call, ServiceUnavailable

HOW = {"1": "sms", "2": "email", "3": "fax"}
SENT = {"sms": "sms_sent", "email": "email_sent", "fax": "fax_sent"}


async def run(call: Call) -> None:
    await call.say("medical_centres_intro")
    how = await call.choose(tuple(HOW), "delivery_menu", field="send_by")
    kind = HOW[how]
    to = None
    if kind == "email":
        to = await _email_on_file(call)
        if to is None:
            call.not_served(Outcome.NOT_FOUND, "email_on_file")
            await call.say("no_email_on_file")
            return
    medical = await call.lookup("medical_centres", call.customers.medical_centres())
    payment = await call.lookup("payment_centres", call.customers.payment_centres())
    call.session.looked("centres", kind, medical=len(medical), payment=len(payment))
    await call.send(kind, subject="centres", body=listing(medical + payment, call.language), to=to)
    await call.say(SENT[kind])


async def _email_on_file(call: Call) -> str | None:
    if call.session.customer is None:
        return None
    try:
        file = await call.lookup(
            "customer_file", call.customers.customer_file(call.session.customer.customer_id)
        )
    except ServiceUnavailable:
        return None
    return file.emails[0] if file and file.emails else None


def listing(centres: list[CentreView], language: str) -> str:
    lines = []
    for centre in centres:
        name = centre.name_fa if language == "fa" or not centre.name_en else centre.name_en
        lines.append(f"{name} | {centre.city} | {centre.address_fa} | {centre.phone}")
    return "\n".join(lines)
