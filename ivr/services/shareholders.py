"""Shareholders: shareholder ID and PIN, then the shares held, the dividend per share and due
to them with its payment date, documents missing from their file, and the next general
meeting's date and place; the invitation by SMS or fax on request."""

from __future__ import annotations

from customer_file.views import GeneralMeetingView, ShareholderView
from interactions.outcomes import Outcome
from ivr.engine import Call
from ivr.services.identity import LockedOut, check_secret, tehran
from prompts.utterance import Utterance


async def run(call: Call) -> None:
    number = await call.ask("shareholder_id")

    async def verify(pin: str) -> bool:
        # Asked before saying whether the number exists, so callers cannot probe who holds shares.
        return await call.customers.verify_shareholder_pin(number, pin)

    try:
        await check_secret(call, f"shareholder:{number}", "pin", verify)
    except LockedOut:
        return
    holder = await call.lookup("shareholder", call.customers.shareholder(number))
    if holder is None:
        call.not_served(Outcome.NOT_FOUND, "shareholder")
        await call.say("identity_not_verified")
        return
    call.session.looked("shareholder", number)
    await call.say(describe(call, holder))
    call.delivered()
    meeting = await call.lookup(
        "general_meeting", call.customers.next_general_meeting(call.session.clock())
    )
    if meeting is None:
        return
    invitation = await meeting_utterance(call, meeting)
    await call.say(invitation)
    choice = await call.offer_keys(("1", "2"), "invitation_offer", field="invitation")
    if choice is not None:
        kind = "sms" if choice == "1" else "fax"
        body = meeting.invitation_text or invitation.text
        if await call.send(kind, subject="general_meeting_invitation", body=body):
            await call.say("sms_sent" if kind == "sms" else "fax_sent")
        else:  # the calling number is no domestic mobile
            await call.say("no_mobile_on_file" if kind == "sms" else "no_fax_on_file")


def describe(call: Call, holder: ShareholderView) -> Utterance:
    parts = [call.utter("shares_count"), call.number(holder.shares)]
    dividend = holder.latest_dividend
    if dividend is not None:
        parts += [call.utter("dividend_per_share"), call.amount(dividend.per_share_rials)]
        parts += [call.utter("dividend_due"), call.amount(dividend.amount_due_rials)]
        if dividend.payment_date is not None:
            parts += [call.utter("dividend_payment_date"), call.date(dividend.payment_date)]
    if holder.missing_documents:
        parts.append(call.utter("documents_missing"))
        parts += [call.utter(f"document_{code}") for code in holder.missing_documents]
    else:
        parts.append(call.utter("documents_complete"))
    return Utterance.join(parts)


async def meeting_utterance(call: Call, meeting: GeneralMeetingView) -> Utterance:
    place = meeting.place_fa if call.language == "fa" else (meeting.place_en or meeting.place_fa)
    return Utterance.join(
        [
            call.utter("general_meeting_date"),
            call.date(tehran(meeting.held_at).date()),
            call.utter("general_meeting_place"),
            await call.spoken(place),
        ]
    )
