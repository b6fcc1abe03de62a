#!/usr/bin/env python3
"""Process AGI: Asterisk starts this script once per call and talks to it over stdin/stdout.

For a small box only: a process per call collapses long before the FastAGI server does (the
sandbox sustained 20 calls/s against FastAGI's 200, see the README). The dialplan names the
route as the first argument: `AGI(/opt/tamas/agi_scripts/process_agi.py,keys)`. Routes get a
`ProcessAgiChannel`, the same `AgiCommands` as FastAGI's `AgiChannel`, so a route
(`agi_scripts.channel.Route`) runs unchanged under either. `main(routes)` is the one entry:
run as a file it serves the `keys` route; ivr/process.py passes the menus.

pyst2's `asterisk.agi.AGI` does the line protocol; around it we fix two of its traps: a bare
`HANGUP` line Asterisk writes when the caller hangs up is filtered out of stdin before pyst2
reads it (pyst2 would take it for a command's answer and go off by one), and its exceptions
become our `CallerHungUp` / `AgiError`. Its debug chatter (which includes caller numbers) goes
to /dev/null instead of Asterisk's log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any

if __package__ in (None, ""):
    # Run as a file by Asterisk: make `agi_scripts` (and pyst2 copied beside it) importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from asterisk import agi as pyst2_agi

from agi_scripts.channel import (
    AgiCommands,
    AgiError,
    AgiResult,
    CallerHungUp,
    Route,
    parse_result,
)
from tamas.asterisk import variables

log = logging.getLogger(__name__)


class HangupFilter:
    """stdin as pyst2 should see it: without Asterisk's inline `HANGUP` lines."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.hung_up = False

    def readline(self) -> str:
        while True:
            line = self.stream.readline()
            if line.strip() == "HANGUP":
                self.hung_up = True
                continue
            return line


class ProcessAgiChannel(AgiCommands):
    """`AgiCommands` over pyst2 (blocking calls are fine: one process per call)."""

    first_argument = 2

    def __init__(self, agi: Any, stdin: HangupFilter) -> None:
        super().__init__(agi.env)
        self._agi = agi
        self._stdin = stdin

    @property
    def hung_up(self) -> bool:
        return self._stdin.hung_up or bool(getattr(self._agi, "_got_sighup", False))

    @hung_up.setter
    def hung_up(self, value: bool) -> None:
        self._stdin.hung_up = self._stdin.hung_up or value

    @property
    def script(self) -> str:
        return self.headers.get("agi_arg_1", "")

    async def command(self, text: str) -> AgiResult:
        """One raw command: pyst2 writes it and reads the answer; we parse that answer the
        same way as FastAGI does."""
        if self.hung_up:
            raise CallerHungUp("caller hung up")
        try:
            self._agi.test_hangup()
            self._agi.send_command(text)
            line = self._stdin.readline()
        except pyst2_agi.AGIHangup as error:
            raise CallerHungUp(str(error)) from error
        except BrokenPipeError as error:
            raise CallerHungUp("Asterisk closed the AGI pipe") from error
        if not line:
            raise CallerHungUp("Asterisk closed the AGI pipe")
        line = line.rstrip("\r\n")
        if line.startswith("520-"):
            while line and not line.startswith("520 "):
                line = self._stdin.readline().rstrip("\r\n")
            raise AgiError(f"{text!r}: invalid syntax")
        result = parse_result(line)
        if result.code == 511:
            raise CallerHungUp(f"{text.split()[0]} on a dead channel")
        if result.code != 200:
            raise AgiError(f"{text!r}: {line}")
        return result


async def keys_route(channel: AgiCommands) -> None:
    """`keys`: answer, read the caller's keys, hand them back to the dialplan as TAMAS_KEYS.
    Needs nothing but the standard library, so it runs inside a bare Asterisk box."""
    await channel.answer()
    keys = await channel.get_data("beep", 3000, 20)
    await channel.set_variable(variables.KEYS, keys)


def light_routes() -> dict[str, Route]:
    return {"keys": keys_route}


async def serve(
    channel: AgiCommands,
    routes: Mapping[str, Route],
    after: Callable[[], Awaitable[None]] | None = None,
) -> int:
    route = routes.get(channel.script)
    try:
        if route is None:
            log.error("process AGI: no route %r", channel.script)
            return 1
        await route(channel)
    except CallerHungUp:
        pass
    except AgiError as error:
        log.error("process AGI %s: %s", channel.script, error)
        return 1
    finally:
        if after is not None:
            await after()
    return 0


def main(
    routes: Mapping[str, Route] | None = None,
    after: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Serve one call on stdin/stdout with the route the dialplan names; `after` runs once the
    route is done, on the same event loop (e.g. to close a database pool)."""
    stdin = HangupFilter(sys.stdin)
    with open(os.devnull, "w") as quiet:
        agi = pyst2_agi.AGI(stdin=stdin, stdout=sys.stdout, stderr=quiet)
        channel = ProcessAgiChannel(agi, stdin)
        return asyncio.run(serve(channel, light_routes() if routes is None else routes, after))


if __name__ == "__main__":
    sys.exit(main())
