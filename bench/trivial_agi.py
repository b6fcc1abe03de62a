"""The trivial handler every speed figure is compared with: five GET VARIABLE, one GET DATA
that receives the caller's DTMF, and the verdict handed back to the dialplan.

The same function runs over FastAGI (`AgiChannel`) and over process AGI inside the sandbox
(pyst2's `ProcessAgiChannel`), so it imports nothing but the standard library: the sandbox
copy of it has no project around it.
"""

from __future__ import annotations

from typing import Protocol

ROUTE = "bench-trivial"
# The caller's leg knows which digits it will send; the handler reads them from this channel
# variable and says in BENCH_RESULT whether GET DATA brought exactly those.
EXPECTED_VARIABLE = "BENCH_DIGITS"
RESULT_VARIABLE = "BENCH_RESULT"
GET_DATA_TIMEOUT_MS = 6000
# What GET DATA plays: a beep, unless the call names a prompt (the benchmark's baseline that
# plays as much sound as a claim-status call does).
PROMPT_VARIABLE = "BENCH_PROMPT"
DEFAULT_PROMPT = "beep"


class Line(Protocol):
    async def get_variable(self, name: str) -> str | None: ...

    async def get_data(self, prompt: str, timeout_ms: int = 5000, max_digits: int = 20) -> str: ...

    async def set_variable(self, name: str, value: str) -> None: ...


async def trivial_route(channel: Line) -> None:
    await channel.get_variable("CHANNEL(linkedid)")
    await channel.get_variable("CALLERID(num)")
    await channel.get_variable("CHANNEL(language)")
    prompt = await channel.get_variable(PROMPT_VARIABLE) or DEFAULT_PROMPT
    expected = await channel.get_variable(EXPECTED_VARIABLE) or ""
    digits = await channel.get_data(prompt, GET_DATA_TIMEOUT_MS, len(expected) or 7)
    verdict = "ok" if expected and digits == expected else f"wrong:{digits or 'none'}"
    await channel.set_variable(RESULT_VARIABLE, verdict)
