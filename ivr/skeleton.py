"""The `skeleton` route (extension 100 of tamas-inbound): answers, reads the keys the caller
presses and writes the call's interaction record. It lets `tamas call` work end to end before
any menu exists, and shows the shape every route follows: open the record, do the work,
finish the record in `finally`.
"""

from __future__ import annotations

from agi_scripts.call_record import CallRecord
from agi_scripts.channel import AgiChannel, CallerHungUp
from agi_scripts.fastagi import Route
from integrations.database import Database

# A caller gets this many reads; an empty read (timeout) ends the call.
MAX_READS = 5
READ_TIMEOUT_MS = 3000
MAX_DIGITS = 20


def skeleton_route(database: Database, default_region: str) -> Route:
    async def skeleton(channel: AgiChannel) -> None:
        record = await CallRecord.begin(database, channel, default_region, menu="skeleton")
        outcome, detail = "self_served", None
        reads = 0
        try:
            await channel.answer()
            while reads < MAX_READS:
                reads += 1
                digits = await channel.get_data("beep", READ_TIMEOUT_MS, MAX_DIGITS)
                if not digits:
                    break
                record.add_input(f"read_{reads}", digits)
            await channel.hangup()
        except CallerHungUp:
            outcome, detail = "abandoned_in_menu", f"hung up during read {reads}"
        except Exception:
            outcome, detail = "failed", "error in the skeleton route (see the log)"
            raise
        finally:
            await record.finish(outcome, detail)

    return skeleton
