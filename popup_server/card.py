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

from sqlalchemy import select

from integrations.customer_file.interactions import Interaction
from integrations.customer_file.port import CustomerFile
from integrations.customer_file.views import as_json
from integrations.database import Database
from integrations.identifiers import try_normalize_phone
from popup_server.calls import CallChange

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 2.0


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


async def build_popup(
    change: CallChange,
    customer_file: CustomerFile,
    database: Database,
    region: str,
) -> dict[str, Any]:
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
        "customer": None,
        "ivr": None,
    }
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_S):
            popup["ivr"] = await _ivr_record(database, call.linkedid)
            if e164 is not None:
                summary = await customer_file.customer_by_phone(e164)
                if summary is None and popup["ivr"] and popup["ivr"]["customer_id"]:
                    # Not the owner's phone, but the caller identified in the IVR.
                    summary = await customer_file.customer(popup["ivr"]["customer_id"])
                if summary is not None:
                    view = await customer_file.customer_file(summary.id)
                    if view is not None:
                        popup["customer"] = as_json(view)
                        popup["lookup"] = "found"
    except Exception as error:  # the card still goes out: the agent must see the call ring
        log.warning("popup: customer file lookup failed for %s: %r", call.linkedid, error)
        popup["lookup"] = "unavailable"
    return popup


async def _ivr_record(database: Database, linkedid: str) -> dict[str, Any] | None:
    """What the caller did in the IVR before the queue: identified or not, path, lookups."""
    async with database.session() as session:
        record = await session.scalar(select(Interaction).where(Interaction.linkedid == linkedid))
    if record is None:
        return None
    return {
        "identified": record.customer_id is not None,
        "customer_id": record.customer_id,
        "language": record.language,
        "menu_path": list(record.menu_path or []),
        "inputs": list(record.inputs or []),
        "looked_up": list(record.looked_up or []),
        "outcome": record.outcome,
    }
