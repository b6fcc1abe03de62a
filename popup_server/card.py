"""The popup card: what the agent sees as the phone rings, built from the call, the customer
file (through the `CustomerFile` port) and the IVR's interaction record for this call.

The payload's shape is fixed by docs/popup.schema.json; a slow or failing customer file gives
a card marked `lookup: "unavailable"` rather than no card.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from customer_file.identifiers import try_normalize_phone
from customer_file.port import CustomerFile
from customer_file.views import as_json
from integrations.database import Database
from interactions.records import InteractionRecords
from popup_server.calls import CallChange

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 2.0


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


async def first_card(
    change: CallChange,
    customer_file: CustomerFile,
    database: Database,
    region: str,
) -> dict[str, Any]:
    """The card as the phone starts ringing: the caller, who they are (the customer summary:
    one indexed lookup) and what they did in the IVR. `lookup` is "loading" when the whole
    file follows in a second popup (`whole_file`), else final: "unknown" or "unavailable"."""
    call, leg = change.call, change.leg
    e164 = try_normalize_phone(call.caller_number, region) if call.caller_number else None
    popup: dict[str, Any] = {
        "linkedid": call.linkedid,
        "agent": leg.agent,
        "state": leg.state.value,
        "state_seq": leg.seq,
        "state_at": iso(leg.since),
        "queue": call.queue,
        "transferred_from": call.transferred_from,
        "caller": {"number": call.caller_number, "e164": e164, "name": call.caller_name},
        # The agent's own call's channels, so any desktop process can transfer or hang up.
        "channels": {"agent": leg.channel, "caller": call.caller_channel},
        "lookup": "unknown",
        "summary": None,
        "customer": None,
        "ivr": None,
    }
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            ivr, summary = await asyncio.gather(
                InteractionRecords(database).ivr_summary(call.linkedid),
                customer_file.customer_by_phone(e164) if e164 else _nothing(),
            )
            popup["ivr"] = ivr
            if summary is None and ivr and ivr["customer_id"]:
                # Not the owner's phone, but the caller identified in the IVR.
                summary = await customer_file.customer(ivr["customer_id"])
            if summary is not None:
                popup["summary"] = as_json(summary)
                popup["lookup"] = "loading"
    except Exception as error:  # the card still goes out: the agent must see the call ring
        log.warning("popup: customer lookup failed for %s: %r", call.linkedid, error)
        popup["lookup"] = "unavailable"
    return popup


async def whole_file(popup: dict[str, Any], customer_file: CustomerFile) -> dict[str, Any]:
    """The same card with the customer's whole file (policies, claims, debt...)."""
    complete = dict(popup)
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            view = await customer_file.customer_file(popup["summary"]["id"])
        complete["customer"] = None if view is None else as_json(view)
        complete["lookup"] = "found" if view is not None else "unknown"
    except Exception as error:
        log.warning("popup: customer file failed for %s: %r", popup["linkedid"], error)
        complete["lookup"] = "unavailable"
    return complete


async def _nothing() -> None:
    return None
