"""Complaints: a new one (category, a recorded voice message, a tracking number), or the
status of an earlier one by its tracking number."""

from __future__ import annotations

import os

from interactions.outcomes import Outcome
from ivr.engine import Call

# Keys of the category question, as complaint_choose_category offers them.
CATEGORIES = {"1": "claim", "2": "service", "3": "agent_conduct", "4": "billing", "5": "other"}
MAX_RECORDING_S = 120


async def run(call: Call) -> None:
    choice = await call.choose(("1", "2"), "complaint_menu", field="complaint_action")
    if choice == "1":
        await _new(call)
    else:
        await _status(call)


async def _new(call: Call) -> None:
    key = await call.choose(
        tuple(CATEGORIES), "complaint_choose_category", field="complaint_category"
    )
    category = CATEGORIES[key]
    await call.say("complaint_record")
    path = os.path.join(call.facilities.recordings_dir, f"complaint-{call.session.linkedid}")
    recording = await call.channel.record(path, MAX_RECORDING_S)
    customer = call.session.customer
    tracking = await call.lookup(
        "complaint",
        call.customers.create_complaint(
            category,
            customer_id=customer.customer_id if customer else None,
            caller_number=call.session.caller_number,
            recording_path=recording.path if recording.kept else None,
            linkedid=call.session.linkedid,
        ),
    )
    call.session.looked(
        "complaint", tracking, category=category, recording_ms=recording.duration_ms
    )
    await call.say("complaint_registered", "tracking_number_is", call.digits(tracking))


async def _status(call: Call) -> None:
    number = await call.ask("complaint_number")
    complaint = await call.lookup("complaint", call.customers.complaint_status(number))
    if complaint is None:
        call.session.looked("complaint", number, found=False)
        call.not_served(Outcome.NOT_FOUND, "complaint")
        await call.say("complaint_not_found")
        return
    call.session.looked("complaint", number, status=complaint.status)
    await call.say(f"complaint_status_{complaint.status}")
