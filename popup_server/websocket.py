"""Per-agent websocket connections: bus messages in, frames out to the agents the message's
audience admits, and nobody else.

Each connection has its own bounded outbox and writer task, so one slow or broken desktop
never delays the others; junk frames from a desktop get an error frame (and, if it keeps
sending junk, a close) on that connection only. The hub remembers each agent's live calls
(popup + latest state), so a desktop that reconnects after a network drop gets the popup of
a call still ringing or in progress.

A desktop's websocket lives no longer than its login session: it closes when the agent logs
out (at once, in every process, through the bus), when the session expires, and when the
agent is deactivated or given a new password (at the hub's next check of its sessions, every
few seconds, whichever process or command made the change).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from popup_server.agents import AgentDirectory, AgentIdentity, session_key
from popup_server.auth import current_agent, token_of
from popup_server.events import LIVE_STATES, CallPopup, CallStateChanged, SessionEnded
from tamas.bus import Bus, BusError, Message

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 4096
MAX_JUNK_FRAMES = 10
OUTBOX_FRAMES = 256
LIVE_CALL_MAX_AGE_S = 6 * 3600
OFFERED_REMEMBERED = 100_000
# Desktops one agent may have open at once (a few tabs, a reconnect racing the old socket);
# more is a script or a leak, and each holds a writer task and an outbox.
MAX_DESKTOPS_PER_AGENT = 8
CLOSE_SESSION_EXPIRED = 4001
CLOSE_TOO_SLOW = 4002
CLOSE_SIGNED_OUT = 4003
# How often each process asks the database which of its desktops' sessions still hold.
SESSION_CHECK_S = 5.0


def frame_of(message: Message) -> str:
    """The JSON text sent to desktops, made once per message whatever the fan-out."""
    return json.dumps(
        {
            "type": message.name,
            "payload": message.payload,
            "published_at": message.published_at,
            "observed_at": message.observed_at,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


@dataclass
class _LiveCall:
    payload: dict[str, Any]
    popup: str
    popup_seq: int
    state: str | None = None
    state_seq: int = -1
    at: float = field(default_factory=time.monotonic)


class Connection:
    """One desktop's websocket, with its outbox and writer."""

    def __init__(self, ws: web.WebSocketResponse, agent: AgentIdentity, session: str = "") -> None:
        self.ws = ws
        self.agent = agent
        self.session = session  # the login session's key (agents.session_key)
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_FRAMES)
        self.writer = asyncio.create_task(self._write(), name=f"ws-writer-{agent.number}")
        self._closing: asyncio.Task[bool] | None = None

    def send(self, frame: str) -> None:
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            # A desktop that cannot keep up is cut off (it reconnects and gets its live calls)
            # rather than let its backlog grow without bound.
            log.warning("desktop: agent %s too slow; closing its websocket", self.agent.number)
            self.close_soon(CLOSE_TOO_SLOW, b"too slow")

    def close_soon(self, code: int, reason: bytes) -> None:
        """Close this websocket from a callback (no await there); once."""
        if self._closing is None:
            self._closing = asyncio.create_task(self.ws.close(code=code, message=reason))

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                frame = await self.outbox.get()
                await self.ws.send_str(frame)

    async def close(self) -> None:
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.writer


class DesktopHub:
    """Every desktop connected to this process, fed from the bus."""

    def __init__(
        self,
        bus: Bus,
        directory: AgentDirectory | None = None,
        session_check_s: float = SESSION_CHECK_S,
    ) -> None:
        self.bus = bus
        self.directory = directory
        self.session_check_s = session_check_s
        self._session_checker: asyncio.Task[None] | None = None
        self.connections: dict[str, set[Connection]] = {}
        self._live: dict[tuple[str, str], _LiveCall] = {}
        # (agent, linkedid) of recent calls offered to each agent, live or not: who may
        # save a disposition or hang up which call.
        self._offered: OrderedDict[tuple[str, str], int] = OrderedDict()
        # (agent, linkedid) of recent calls each agent answered: the disposition is theirs,
        # not that of an agent the call only rang.
        self._answered: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._popups_seen = 0
        self._unsubscribe = bus.subscribe(self.deliver)

    def close(self) -> None:
        self._unsubscribe()
        if self._session_checker is not None:
            self._session_checker.cancel()

    async def close_all(self) -> None:
        """Server shutdown: desktops are told to reconnect (to another process)."""
        for group in list(self.connections.values()):
            for connection in list(group):
                await connection.ws.close(code=1001, message=b"server going away")

    def connection_count(self) -> int:
        return sum(len(group) for group in self.connections.values())

    async def session_ended(self, agent: str, session: str | None, reason: str) -> None:
        """Close the agent's websockets of that session (None: all of them) here at once,
        and in every other process through the bus."""
        self._end_sessions(agent, session)
        try:
            await self.bus.publish(SessionEnded(agent, session, reason))
        except BusError as error:
            # The other processes still close them at their next check of the sessions.
            log.warning("desktop: end of agent %s's session not published: %s", agent, error)

    def _end_sessions(self, agent: str, session: str | None) -> None:
        for connection in list(self.connections.get(agent, ())):
            if session is None or connection.session == session:
                connection.close_soon(CLOSE_SIGNED_OUT, b"signed out")

    async def check_sessions(self) -> None:
        """Close every websocket whose login session no longer holds."""
        if self.directory is None:
            return
        connections = [c for group in self.connections.values() for c in group]
        live = await self.directory.live_sessions({c.session for c in connections})
        for connection in connections:
            if connection.session not in live:
                connection.close_soon(CLOSE_SIGNED_OUT, b"signed out")

    async def _check_sessions_forever(self) -> None:
        while True:
            await asyncio.sleep(self.session_check_s)
            try:
                await self.check_sessions()
            except Exception as error:  # a database hiccup must not stop the checks
                log.warning("desktop: could not check sessions: %r", error)

    async def deliver(self, message: Message) -> None:
        if message.name == SessionEnded.name:
            self._end_sessions(str(message.payload["agent"]), message.payload.get("session"))
            return
        frame = frame_of(message)
        self._remember(message, frame)
        audience = message.audience
        for agent in audience.agents:
            for connection in self.connections.get(agent, ()):
                connection.send(frame)
        if audience.roles:
            for group in self.connections.values():
                for connection in group:
                    if connection.agent.number not in audience.agents and audience.admits(
                        connection.agent.number, connection.agent.roles
                    ):
                        connection.send(frame)

    def _remember(self, message: Message, frame: str) -> None:
        payload = message.payload
        if (
            message.name in (CallPopup.name, CallStateChanged.name)
            and payload.get("state") == "answered"
        ):
            self._answered[(str(payload.get("agent")), str(payload.get("linkedid")))] = None
            while len(self._answered) > OFFERED_REMEMBERED:
                self._answered.popitem(last=False)
        if message.name == CallPopup.name:
            key = (str(payload.get("agent")), str(payload.get("linkedid")))
            seq = int(payload["state_seq"])
            live = self._live.get(key)
            if live is not None and seq >= live.popup_seq:
                # The whole file arrived: it replaces the first card, the latest state stays.
                live.payload, live.popup = dict(payload), frame
            elif payload.get("state") in LIVE_STATES and seq > self._offered.get(key, -1):
                # A new offer (not the late file of a call that has already ended).
                self._live[key] = _LiveCall(payload=dict(payload), popup=frame, popup_seq=seq)
            self._offered[key] = max(seq, self._offered.get(key, -1))
            while len(self._offered) > OFFERED_REMEMBERED:
                self._offered.popitem(last=False)
        elif message.name == CallStateChanged.name:
            key = (str(payload.get("agent")), str(payload.get("linkedid")))
            live = self._live.get(key)
            if live is None:
                return
            if payload.get("state") not in LIVE_STATES:
                del self._live[key]
            elif int(payload["state_seq"]) > max(live.popup_seq, live.state_seq):
                live.state, live.state_seq = frame, int(payload["state_seq"])
        if message.name == CallPopup.name:
            self._popups_seen += 1
            if self._popups_seen % 1000 == 0 or len(self._live) > 50_000:
                self._forget_stale()

    def _forget_stale(self) -> None:
        # A hang-up lost between processes must not keep a popup alive for ever.
        cutoff = time.monotonic() - LIVE_CALL_MAX_AGE_S
        for key in [key for key, live in self._live.items() if live.at < cutoff]:
            del self._live[key]

    def was_offered(self, agent: str, linkedid: str) -> bool:
        return (agent, linkedid) in self._offered

    def answered(self, agent: str, linkedid: str) -> bool:
        return (agent, linkedid) in self._answered

    def live_call(self, agent: str, linkedid: str) -> dict[str, Any] | None:
        """The popup payload of a live call of this agent's, with its latest state."""
        live = self._live.get((agent, linkedid))
        if live is None:
            return None
        payload = dict(live.payload)
        if live.state is not None:
            payload["state"] = json.loads(live.state)["payload"]["state"]
        return payload

    def live_frames_for(self, agent: str) -> list[str]:
        frames: list[str] = []
        for (number, _linkedid), live in self._live.items():
            if number == agent:
                frames.append(live.popup)
                if live.state is not None:
                    frames.append(live.state)
        return frames

    def _add(self, connection: Connection) -> None:
        self.connections.setdefault(connection.agent.number, set()).add(connection)

    def _remove(self, connection: Connection) -> None:
        group = self.connections.get(connection.agent.number)
        if group is not None:
            group.discard(connection)
            if not group:
                del self.connections[connection.agent.number]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """GET /ws: the desktop's websocket (the session cookie or a bearer token)."""
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            # Another site's page must not ride on the agent's cookie.
            raise web.HTTPForbidden(text="cross-origin websocket refused")
        agent = await current_agent(request)
        if agent is None:
            raise web.HTTPUnauthorized(text="not logged in or session expired")
        if len(self.connections.get(agent.number, ())) >= MAX_DESKTOPS_PER_AGENT:
            raise web.HTTPTooManyRequests(
                text=f"at most {MAX_DESKTOPS_PER_AGENT} desktops open per agent; close one"
            )
        ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=30.0)
        await ws.prepare(request)
        connection = Connection(ws, agent, session_key(token_of(request)))
        if self.directory is not None and self._session_checker is None:
            self._session_checker = asyncio.create_task(
                self._check_sessions_forever(), name="desktop-sessions-check"
            )
        expiry = asyncio.get_running_loop().call_later(
            max(0.0, agent.session_expires_at.timestamp() - time.time()),
            connection.close_soon,
            CLOSE_SESSION_EXPIRED,
            b"session expired",
        )
        self._add(connection)
        try:
            connection.send(json.dumps({"type": "hello", "payload": {"agent": agent.number}}))
            for frame in self.live_frames_for(agent.number):
                connection.send(frame)
            await self._read(connection)
        finally:
            expiry.cancel()
            self._remove(connection)
            await connection.close()
        return ws

    async def _read(self, connection: Connection) -> None:
        junk = 0
        async for frame in connection.ws:
            reply = None
            if frame.type is WSMsgType.TEXT:
                reply = _answer(frame.data)
            if reply is None:
                junk += 1
                connection.send(json.dumps({"type": "error", "payload": {"error": "bad frame"}}))
                if junk >= MAX_JUNK_FRAMES:
                    await connection.ws.close(code=1008, message=b"too many bad frames")
                    return
            else:
                connection.send(reply)


def _answer(text: str) -> str | None:
    """The reply to a desktop's frame, or None if the frame is junk."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "ping":
        return json.dumps({"type": "pong", "payload": {"at": time.time()}})
    return None
