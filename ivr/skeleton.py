"""The `skeleton` route (extension 100 of tamas-inbound): answers, reads the keys the caller
presses and writes the call's interaction record. It lets `tamas call` work end to end before
any menu exists, and shows the shape every route follows: do the work, hand the call's part
to the interaction records in `finally`, so a caller who hangs up still leaves a record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agi_scripts.channel import AgiCommands, CallerHungUp
from customer_file.identifiers import caller_number
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from ivr.routes import Route

# A caller gets this many reads; an empty read (timeout) ends the call.
MAX_READS = 5
READ_TIMEOUT_MS = 3000
MAX_DIGITS = 20


def skeleton_route(records: InteractionRecords, default_region: str) -> Route:
    async def skeleton(channel: AgiCommands) -> None:
        called = channel.headers.get("agi_dnid", "")
        if called in ("", "unknown"):
            called = channel.headers.get("agi_extension", "")
        part = CallPart(
            linkedid=await channel.linkedid(),
            caller_number=caller_number(channel.caller_number, default_region),
            called_number=called or None,
            menu_path=[{"menu": "skeleton", "at": datetime.now(UTC).isoformat()}],
        )
        outcome, detail = Outcome.SELF_SERVED, None
        reads = 0
        try:
            await channel.answer()
            while reads < MAX_READS:
                reads += 1
                digits = await channel.get_data("beep", READ_TIMEOUT_MS, MAX_DIGITS)
                if not digits:
                    break
                part.inputs.append(
                    {"field": f"read_{reads}", "value": digits, "at": datetime.now(UTC).isoformat()}
                )
            await channel.hangup()
        except CallerHungUp:
            outcome, detail = Outcome.ABANDONED_IN_MENU, f"hung up during read {reads}"
        except Exception:
            outcome, detail = Outcome.FAILED, "error in the skeleton route (see the log)"
            raise
        finally:
            part.outcome, part.outcome_detail = outcome, detail
            part.ended_at = datetime.now(UTC)
            await records.save_call(part)

    return skeleton
