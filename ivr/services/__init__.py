"""One module per service of the insurer's catalogue; each is `async def run(call)`.

The menu file names services by these keys, and `ivr.definitions` refuses a menu naming a
service that is not here.
"""

from __future__ import annotations

from ivr.engine import Service
from ivr.services import (
    agent,
    authenticity,
    branches,
    callback,
    centres,
    claim_status,
    complaints,
    debts,
    renewal,
    shareholders,
)

SERVICES: dict[str, Service] = {
    "claim_status": claim_status.run,
    "branches": branches.run,
    "debts": debts.run,
    "authenticity": authenticity.run,
    "renewal": renewal.run,
    "complaints": complaints.run,
    "shareholders": shareholders.run,
    "centres": centres.run,
    "callback": callback.request,
    "agent": agent.run,
}
