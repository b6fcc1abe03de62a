"""Medical centres and claim-payment centres: the list sent by SMS, email or fax on request
(a list of addresses is too long to listen to).

Only to where the caller may have it sent: an address or number on the identified
customer's file, or, for an SMS, the calling number when it is a domestic mobile. Never to a
number merely keyed or presented: caller ID is spoofable, and an SMS or fax to any number is
toll fraud or a way to bomb a victim. The outbox then caps what is sent (outbox.py)."""

from __future__ import annotations

from customer_file.views import CentreView, CustomerFileView
from interactions.outcomes import Outcome
from ivr.engine import Call, ServiceUnavailable

HOW = {"1": "sms", "2": "email", "3": "fax"}
SENT = {"sms": "sms_sent", "email": "email_sent", "fax": "fax_sent"}
NOTHING_ON_FILE = {"sms": "no_mobile_on_file", "email": "no_email_on_file", "fax": "no_fax_on_file"}
MOBILE_KINDS = ("mobile",)


async def run(call: Call) -> None:
    await call.say("medical_centres_intro")
    how = await call.choose(tuple(HOW), "delivery_menu", field="send_by")
    kind = HOW[how]
    to = await destination(call, kind)
    if to is None:
        call.not_served(Outcome.NOT_FOUND, f"{kind}_on_file")
        await call.say(NOTHING_ON_FILE[kind])
        return
    medical = await call.lookup("medical_centres", call.customers.medical_centres())
    payment = await call.lookup("payment_centres", call.customers.payment_centres())
    call.session.looked("centres", kind, medical=len(medical), payment=len(payment))
    body = listing(medical + payment, call.language)
    if not await call.send(kind, subject="centres", body=body, to=to, wait=True):
        call.not_served(Outcome.NOT_FOUND, "message_not_sent")
        await call.say("message_not_sent")
        return
    await call.say(SENT[kind])


async def destination(call: Call, kind: str) -> str | None:
    """Where a message of `kind` may go for this caller, or None."""
    caller = call.session.caller_number
    file = await _file(call)
    if kind == "email":
        return file.emails[0] if file and file.emails else None
    wanted = MOBILE_KINDS if kind == "sms" else ("fax",)
    phones = sorted(file.phones if file else (), key=lambda phone: not phone.is_primary)
    on_file = [phone.e164 for phone in phones if phone.kind in wanted]
    if caller in on_file:
        return caller
    if on_file:
        return on_file[0]
    if (
        kind == "sms"
        and caller
        and call.facilities.outbox.limits.destinations.domestic_mobile(caller)
    ):
        return caller
    return None


async def _file(call: Call) -> CustomerFileView | None:
    if call.session.customer is None:
        return None
    try:
        return await call.lookup(
            "customer_file", call.customers.customer_file(call.session.customer.customer_id)
        )
    except ServiceUnavailable:
        return None


def listing(centres: list[CentreView], language: str) -> str:
    lines = []
    for centre in centres:
        name = centre.name_fa if language == "fa" or not centre.name_en else centre.name_en
        lines.append(f"{name} | {centre.city} | {centre.address_fa} | {centre.phone}")
    return "\n".join(lines)
