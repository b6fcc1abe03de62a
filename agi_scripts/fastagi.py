"""The FastAGI server: one asyncio process serving every call Asterisk hands over with
`AGI(agi://host:port/<route>,arg1,arg2)`.

The route table is explicit, a plain dict from route name to `async def route(channel)`
(`agi_scripts.channel.Route`):

    server = build_server(settings, {"keys": read_keys, "menu": menu})
    await server.start()              # listens on settings.fastagi_host/fastagi_port
    await server.serve_forever()

Each connection: the peer must be in `settings.fastagi_allow` (others are closed and logged);
the headers are read line by line with a deadline (a connection that closes early or never
finishes its headers is dropped, never spun on); the route named by `agi_network_script` gets
an `AgiChannel` (agi_scripts/channel.py). Parameters travel as AGI arguments
(`channel.args`), not in the URL: `agi://host/claims?x=1` is refused as an unknown route.
A route ends when it returns or when the caller hangs up (`CallerHungUp`, caught here).

The server knows no route of its own: `tamas agi` (tamas/agi.py) composes the table.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Mapping

from agi_scripts.channel import MAX_LINE_BYTES, AgiChannel, AgiError, CallerHungUp, Route
from tamas.settings import Settings

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 5.0
MAX_HEADERS = 256


def _allowed_addresses(
    allow: tuple[str, ...],
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in allow:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            log.error("fastagi_allow: %r is not an address or network; ignored", entry)
    return networks


class AgiServer:
    """Accepts FastAGI connections and runs the matching route for each."""

    def __init__(
        self,
        routes: Mapping[str, Route],
        host: str,
        port: int,
        allow: tuple[str, ...],
        header_timeout_s: float = HEADER_TIMEOUT_S,
    ) -> None:
        self.routes = dict(routes)
        self.host, self.port = host, port
        self.allow = _allowed_addresses(allow)
        self.header_timeout_s = header_timeout_s
        self.sessions: set[asyncio.Task[None]] = set()
        self.refused = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=MAX_LINE_BYTES, backlog=1024
        )
        # With port 0 (tests) the system picks one: report the real port.
        self.port = self._server.sockets[0].getsockname()[1]
        log.info(
            "FastAGI listening on %s:%s, routes: %s",
            self.host,
            self.port,
            ", ".join(sorted(self.routes)),
        )

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self.sessions):
            task.cancel()
        if self.sessions:
            await asyncio.gather(*self.sessions, return_exceptions=True)

    def is_allowed(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allow)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.sessions.add(task)
        try:
            await self._session(reader, writer)
        finally:
            self.sessions.discard(task)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else ""
        if not self.is_allowed(address):
            self.refused += 1
            log.warning("FastAGI: refused a connection from %s (not in fastagi_allow)", address)
            writer.close()
            return
        headers = await self._read_headers(reader, address)
        if headers is None:
            writer.close()
            return
        channel = AgiChannel(reader, writer, headers)
        script = channel.script
        route = self.routes.get(script)
        if route is None:
            hint = " (pass parameters as AGI arguments, not in the URL)" if "?" in script else ""
            log.error("FastAGI: no route %r for %s%s", script, channel.name, hint)
            await channel.close()
            return
        started = time.monotonic()
        try:
            await route(channel)
        except CallerHungUp:
            log.debug("FastAGI %s: caller hung up on %s", script, channel.name)
        except AgiError as error:
            log.error("FastAGI %s on %s: %s", script, channel.name, error)
        except Exception:
            log.exception("FastAGI %s on %s failed", script, channel.name)
        finally:
            log.debug(
                "FastAGI %s on %s done in %.3f s", script, channel.name, time.monotonic() - started
            )
            await channel.close()

    async def _read_headers(
        self, reader: asyncio.StreamReader, address: str
    ) -> dict[str, str] | None:
        """`agi_key: value` lines up to a blank line. None if the peer closes early, sends
        junk, or takes longer than the deadline."""
        headers: dict[str, str] = {}
        try:
            async with asyncio.timeout(self.header_timeout_s):
                while len(headers) < MAX_HEADERS:
                    raw = await reader.readuntil(b"\n")
                    line = raw.decode("utf-8", errors="replace").strip()
                    if not line:
                        return headers if headers else None
                    key, sep, value = line.partition(":")
                    if not sep or not key.startswith("agi_"):
                        log.warning("FastAGI: %s sent a non-AGI header %r", address, line[:100])
                        return None
                    headers[key.strip()] = value.strip()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            log.warning("FastAGI: %s closed before the end of the headers", address)
            return None
        except asyncio.LimitOverrunError:
            log.warning("FastAGI: %s sent an over-long header line", address)
            return None
        except TimeoutError:
            log.warning(
                "FastAGI: %s did not finish its headers in %.0f s", address, self.header_timeout_s
            )
            return None
        log.warning("FastAGI: %s sent more than %d headers", address, MAX_HEADERS)
        return None


def build_server(
    settings: Settings,
    routes: Mapping[str, Route],
    host: str | None = None,
    port: int | None = None,
) -> AgiServer:
    """The FastAGI server for `routes`, on the settings' address unless told otherwise."""
    return AgiServer(
        routes,
        settings.fastagi_host if host is None else host,
        settings.fastagi_port if port is None else port,
        settings.fastagi_allow,
    )
