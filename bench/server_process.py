"""The FastAGI server under test, in a process of its own, so the load (our generator, or
Asterisk's AMI traffic) never shares its event loop.

    server = ServerProcess("trivial")            # or "claim" with a database URL
    port = server.start()
    ...                                          # drive calls at 127.0.0.1:port
    stats = server.stop()                        # sessions served, errors, round trips

The server is the project's own (`agi_scripts.fastagi.build_server`) serving either the
trivial handler or the IVR's real routes (`ivr.routes.IvrRoutes`). It times every command
that neither plays nor listens, from the write to Asterisk's answer: for those the time is
Asterisk's and ours, not the caller's.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from dataclasses import dataclass, field, replace
from datetime import time as clock
from multiprocessing.connection import Connection
from typing import Any

from agi_scripts.channel import AgiCommands, AgiResult, Route
from bench.agi_protocol_client import MEDIA_DELAY_S
from bench.trivial_agi import ROUTE as TRIVIAL_ROUTE
from bench.trivial_agi import trivial_route
from tamas.gc_tuning import settle_after_startup

START_TIMEOUT_S = 60.0


@dataclass
class ServerStats:
    served: int = 0
    errors: int = 0
    warnings: int = 0
    messages: list[str] = field(default_factory=list)  # the first few errors and warnings
    round_trips_s: list[float] = field(default_factory=list)
    # Per call: seconds of sound Asterisk played for STREAM FILE (its `endpos`, so a prompt
    # cut short by a key counts only up to the key).
    played_s: list[float] = field(default_factory=list)
    cpu_s: float = 0.0  # CPU the server process used while serving
    wall_s: float = 0.0


class _Counter(logging.Handler):
    def __init__(self, stats: ServerStats) -> None:
        super().__init__(logging.WARNING)
        self.stats = stats

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.stats.errors += 1
        else:
            self.stats.warnings += 1
        if len(self.stats.messages) < 5:
            self.stats.messages.append(f"{record.levelname}: {record.getMessage()[:200]}")


def _is_media(command: str) -> bool:
    upper = command.upper()
    return any(upper.startswith(name) for name in MEDIA_DELAY_S)


SAMPLES_PER_S = 8000


def timed(route: Route, stats: ServerStats) -> Route:
    """`route` with each non-media command's round trip appended to `stats.round_trips_s`,
    each call's seconds of played sound to `stats.played_s`, and the calls counted."""

    async def run(channel: AgiCommands) -> None:
        send = channel.command
        played = [0]

        async def command(text: str) -> AgiResult:
            started = time.perf_counter()
            result = await send(text)
            if not _is_media(text):
                stats.round_trips_s.append(time.perf_counter() - started)
            elif text.startswith("STREAM FILE"):
                endpos = result.extra.get("endpos", "0")
                played[0] += int(endpos) if endpos.isdigit() else 0
            return result

        # Per instance: the channel's own helpers (get_variable...) call self.command.
        channel.command = command  # type: ignore[method-assign]
        try:
            await route(channel)
        finally:
            stats.served += 1
            stats.played_s.append(played[0] / SAMPLES_PER_S)

    return run


def _routes(kind: str, database_url: str | None) -> tuple[dict[str, Route], Any]:
    """The route table and the database (or None) the server of `kind` needs."""
    if kind == "trivial":
        return {TRIVIAL_ROUTE: trivial_route}, None
    from integrations.database import Database
    from ivr.hours import OpeningHours
    from ivr.routes import IvrRoutes
    from tamas.settings import load

    assert database_url is not None
    settings = replace(load(), database_url=database_url)
    database = Database(database_url)
    # Always open: a benchmark must not measure the closed-hours message at night.
    always_open = OpeningHours(week={day: (clock(0, 0), clock(23, 59, 59)) for day in range(7)})
    return IvrRoutes(settings, database, hours=always_open).routes(), database


async def _serve(kind: str, database_url: str | None, pipe: Connection, gc_tuned: bool) -> None:
    from agi_scripts.fastagi import build_server
    from tamas.settings import load

    stats = ServerStats()
    logging.basicConfig(level=logging.WARNING, format="server: %(levelname)s %(message)s")
    logging.getLogger().addHandler(_Counter(stats))
    routes, database = _routes(kind, database_url)
    server = build_server(
        load(),
        {name: timed(route, stats) for name, route in routes.items()},
        host="127.0.0.1",
        port=0,
    )
    await server.start()
    if gc_tuned:
        settle_after_startup()  # as `tamas agi` does
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(pipe.fileno(), stop.set)
    pipe.send(server.port)
    cpu, wall = time.process_time(), time.perf_counter()
    await stop.wait()
    stats.cpu_s, stats.wall_s = time.process_time() - cpu, time.perf_counter() - wall
    loop.remove_reader(pipe.fileno())
    pipe.recv()
    await server.close()
    if database is not None:
        await database.dispose()
    pipe.send(stats)


def _child(kind: str, database_url: str | None, pipe: Connection, gc_tuned: bool) -> None:
    asyncio.run(_serve(kind, database_url, pipe, gc_tuned))


class ServerProcess:
    def __init__(self, kind: str, database_url: str | None = None, gc_tuned: bool = True) -> None:
        if kind not in {"trivial", "claim"}:
            raise ValueError(f"unknown server kind {kind!r}")
        self.kind = kind
        self.database_url = database_url
        context = multiprocessing.get_context("spawn")
        self._pipe, child_pipe = context.Pipe()
        self._process = context.Process(
            target=_child, args=(kind, database_url, child_pipe, gc_tuned), daemon=True
        )

    def start(self) -> int:
        self._process.start()
        if not self._pipe.poll(START_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError(f"the {self.kind} FastAGI server did not start")
        port: int = self._pipe.recv()
        return port

    def stop(self, timeout_s: float = 30.0) -> ServerStats:
        self._pipe.send("stop")
        if not self._pipe.poll(timeout_s):
            self._process.kill()
            raise RuntimeError(f"the {self.kind} FastAGI server did not stop")
        stats: ServerStats = self._pipe.recv()
        self._process.join(5)
        return stats
