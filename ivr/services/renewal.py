"""Renewal request: the caller keys the policy number and a callback task is made for an
expert (agents see it), confirmed with a tracking number."""

from __future__ import annotations

from ivr.engine import Call
from ivr.services import callback


async def run(call: Call) -> None:
    policy_number = await call.ask("policy_number")
    await callback.run(call, kind="renewal", policy_number=policy_number)
