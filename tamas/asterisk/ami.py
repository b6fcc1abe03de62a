"""Tamas's Asterisk Manager Interface client: one connection that survives Asterisk restarts.

Why our own asyncio protocol rather than `panoramisk.Manager`: panoramisk 1.4 decodes each TCP
chunk before splitting messages (a UTF-8 letter split across two chunks is dropped: Persian
caller names arrive damaged under load), never checks that a Ping was answered (a half-open
connection goes unnoticed), guesses which response belongs to which action, keeps actions that
never complete, and hides events carrying a pending ActionID from event callbacks. Those are
the core of its protocol, so patching around them would leave little of it. We reuse its
`Message` (a case-insensitive dict: Asterisk spells `ServicelevelPerf` where its docs say
`ServiceLevelPerf`) so events look the same to code that knows panoramisk.

Usage::

    client = AmiClient.from_settings(settings, on_connect=resync)
    client.on_event("Hangup", on_hangup)          # or "*" for every event
    await client.connect()                        # logs in; reconnects by itself afterwards
    reply = await client.send_action({"Action": "QueueStatus"})   # reply.events: the list
    result = await client.originate("Local/s@tamas-caller", context="tamas-inbound", exten="100")
    await client.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from panoramisk.message import Message

from tamas.settings import Settings

log = logging.getLogger(__name__)

EventCallback = Callable[[Message], Awaitable[None] | None]
ConnectHook = Callable[["AmiClient"], Awaitable[None] | None]

_SEPARATOR = b"\r\n\r\n"
# A message bigger than this without a blank line is not AMI: drop the buffer rather than grow.
_MAX_MESSAGE_BYTES = 1 << 20
# Asterisk's banner is one short line ("Asterisk Call Manager/9.0.0"). A peer that sends more
# without a line end is not Asterisk: close, rather than buffer whatever it sends for ever.
_MAX_BANNER_BYTES = 1024
_ORIGINATE_REASONS = {
    0: "failed",
    1: "hangup",
    3: "no_answer",
    4: "answered",
    5: "busy",
    8: "congestion",
}


class AmiError(Exception):
    """An AMI action failed or the connection is unusable."""


class AmiAuthError(AmiError):
    """Asterisk refused our username or secret."""


class AmiDisconnected(AmiError):
    """The connection closed before the action was answered."""


@dataclass
class AmiReply:
    """The response to one action, and for list actions the events it produced (without the
    closing `...Complete` event, which is in `complete`)."""

    response: Message
    events: list[Message] = field(default_factory=list)
    complete: Message | None = None

    @property
    def success(self) -> bool:
        return str(self.response.get("Response", "")).lower() in {"success", "follows", "goodbye"}

    @property
    def message(self) -> str:
        return str(self.response.get("Message", ""))


@dataclass
class OriginateResult:
    action_id: str
    channel_id: str
    response: Message | None
    reason: int | None

    @property
    def answered(self) -> bool:
        return self.reason == 4

    @property
    def reason_name(self) -> str:
        if self.reason is None:
            return "unknown"
        return _ORIGINATE_REASONS.get(self.reason, str(self.reason))


def parse_message(raw: bytes) -> Message | None:
    """One AMI message (without its blank-line terminator) into a Message, or None if it is
    not AMI. Decoding happens here, on a complete message, never on a TCP chunk."""
    text = raw.decode("utf-8", errors="replace")
    headers: dict[str, Any] = {}
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):  # "Key:" with an empty value
                key, value = line[:-1], ""
            else:
                log.warning("AMI: skipping a malformed line %r", line[:200])
                continue
        if not key or " " in key:
            log.warning("AMI: skipping a malformed line %r", line[:200])
            continue
        if key in headers:  # repeated keys (ChanVariable, Output) become lists
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    if "Event" not in headers and "Response" not in headers:
        if headers or text.strip():
            log.warning(
                "AMI: skipping a message that is neither event nor response: %r", text[:200]
            )
        return None
    return Message(headers)


def _get(message: Mapping[str, Any], key: str, default: str = "") -> str:
    value = message.get(key, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    return str(value)


class _Pending:
    def __init__(self, action_id: str) -> None:
        self.action_id = action_id
        self.future: asyncio.Future[AmiReply] = asyncio.get_running_loop().create_future()
        self.reply: AmiReply | None = None


class _AmiProtocol(asyncio.Protocol):
    """Frames bytes into messages and hands them to the client; no policy lives here."""

    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.buffer = bytearray()
        self.banner_seen = False
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.banner_seen:
            end = self.buffer.find(b"\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_BANNER_BYTES:
                    log.warning(
                        "AMI: %d bytes and no banner line: not an Asterisk manager; closing",
                        len(self.buffer),
                    )
                    self.buffer.clear()
                    if self.transport is not None:
                        self.transport.abort()
                return
            banner = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            self.banner_seen = True
            self.client._banner(banner.decode("utf-8", errors="replace"))
        while True:
            end = self.buffer.find(_SEPARATOR)
            if end < 0:
                break
            raw = bytes(self.buffer[:end])
            del self.buffer[: end + len(_SEPARATOR)]
            message = parse_message(raw)
            if message is not None:
                self.client._dispatch(message)
        if len(self.buffer) > _MAX_MESSAGE_BYTES:
            log.warning("AMI: dropping %d bytes with no message end", len(self.buffer))
            self.buffer.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self.client._connection_lost(self, exc)


class AmiClient:
    """One logged-in AMI connection, kept alive (Ping with a checked Pong) and re-established
    with backoff after a disconnect; `on_connect` hooks run after every (re)login."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        events: bool = True,
        ping_interval_s: float = 10.0,
        ping_timeout_s: float = 5.0,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        on_connect: ConnectHook | None = None,
        name: str = "tamas",
    ) -> None:
        self.host, self.port = host, port
        self.username, self._secret = username, secret
        self.events_enabled = events
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.backoff_s = backoff_s
        self._connect_hooks: list[ConnectHook] = [on_connect] if on_connect else []
        self._listeners: dict[str, list[EventCallback]] = {}
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._prefix = f"{name}-{uuid.uuid4().hex[:8]}-"
        self._protocol: _AmiProtocol | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._connected = asyncio.Event()
        self._closing = False
        self.banner = ""
        self.connections = 0  # how many times we logged in (reconnects = connections - 1)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AmiClient:
        return cls(
            settings.ami_host,
            settings.ami_port,
            settings.ami_username,
            settings.effective_ami_secret,
            **options,
        )

    # ------------------------------------------------------------ public API

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def on_connect(self, hook: ConnectHook) -> None:
        self._connect_hooks.append(hook)

    def on_event(self, name: str, callback: EventCallback) -> None:
        """Call `callback(event)` for every event named `name` (case-insensitive) or, with
        "*", for every event, including events that answer our own actions."""
        self._listeners.setdefault(name.lower(), []).append(callback)

    def remove_listener(self, name: str, callback: EventCallback) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._listeners[name.lower()].remove(callback)

    async def connect(self, timeout_s: float = 10.0) -> None:
        """Log in once (errors raise here), then keep the connection up in the background."""
        self._closing = False
        await asyncio.wait_for(self._open(), timeout_s)
        self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")

    async def wait_connected(self, timeout_s: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout_s)

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            with contextlib.suppress(AmiError, TimeoutError):
                await self.send_action({"Action": "Logoff"}, timeout_s=1.0)
            protocol.transport.close()
        for task in list(self._tasks):
            task.cancel()
        self._fail_pending(AmiDisconnected("client closed"))
        self._connected.clear()

    async def send_action(self, action: Mapping[str, Any], timeout_s: float = 10.0) -> AmiReply:
        """Send an action and return its response (and list events). Raises AmiError on
        timeout or disconnect; the pending entry is always removed."""
        if not self._connected.is_set() and str(action.get("Action", "")).lower() != "login":
            raise AmiDisconnected("not connected to Asterisk")
        return await self._send(action, timeout_s)

    async def command(self, cli_command: str, timeout_s: float = 10.0) -> str:
        """An Asterisk CLI command over AMI; its output as text."""
        reply = await self.send_action({"Action": "Command", "Command": cli_command}, timeout_s)
        output = reply.response.get("Output", [])
        lines = output if isinstance(output, list) else [output]
        return "\n".join(str(line) for line in lines)

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int = 1,
        application: str | None = None,
        data: str | None = None,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        timeout_ms: int = 30_000,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        action_id: str | None = None,
        wait: bool = True,
    ) -> OriginateResult:
        """Originate with our own ActionID and ChannelId, so every later event of the call
        (its Uniqueid, and the Linkedid of every channel it creates) is known in advance.
        With `wait`, returns after OriginateResponse (the `reason` says how it went).

        Asterisk refuses a ChannelId that is a prefix of a live channel's unique id ("Unique
        ID 'x-1' already in use" while 'x-10' is up): keep ids fixed-width or random (the
        default is a random uuid)."""
        action_id = action_id or self._next_id()
        channel_id = channel_id or f"tamas-{uuid.uuid4().hex}"
        action: dict[str, Any] = {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": channel,
            "Async": "true",
            "Timeout": str(timeout_ms),
            "ChannelId": channel_id,
        }
        if other_channel_id:
            action["OtherChannelId"] = other_channel_id
        if application:
            action["Application"] = application
            if data is not None:
                action["Data"] = data
        else:
            action.update({"Context": context or "default", "Exten": exten or "s"})
            action["Priority"] = str(priority)
        if caller_id:
            action["CallerID"] = caller_id
        if variables:
            action["Variable"] = [f"{key}={value}" for key, value in variables.items()]

        response_event: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def _on_response(event: Message) -> None:
            if _get(event, "ActionID") == action_id and not response_event.done():
                response_event.set_result(event)

        self.on_event("OriginateResponse", _on_response)
        try:
            reply = await self.send_action(action)
            if not reply.success:
                raise AmiError(f"Originate refused: {reply.message or reply.response}")
            if not wait:
                return OriginateResult(action_id, channel_id, None, None)
            event = await asyncio.wait_for(response_event, timeout_ms / 1000 + 10)
        finally:
            self.remove_listener("OriginateResponse", _on_response)
        reason_text = _get(event, "Reason")
        reason = int(reason_text) if reason_text.lstrip("-").isdigit() else None
        return OriginateResult(action_id, channel_id, event, reason)

    # ------------------------------------------------------------ connection

    def _next_id(self) -> str:
        return f"{self._prefix}{next(self._ids)}"

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        _transport, protocol = await loop.create_connection(
            lambda: _AmiProtocol(self), self.host, self.port
        )
        self._protocol = protocol
        try:
            reply = await self._send(
                {
                    "Action": "Login",
                    "Username": self.username,
                    "Secret": self._secret,
                    "Events": "on" if self.events_enabled else "off",
                },
                timeout_s=10.0,
            )
        except BaseException:
            if protocol.transport is not None:
                protocol.transport.close()
            raise
        if not reply.success:
            if protocol.transport is not None:
                protocol.transport.close()
            raise AmiAuthError(
                f"Asterisk refused AMI login for {self.username!r} at {self.host}:{self.port}: "
                f"{reply.message}"
            )
        self.connections += 1
        self._connected.set()
        # Only a reconnect is news; the first login is expected.
        level = logging.INFO if self.connections > 1 else logging.DEBUG
        log.log(level, "AMI: logged in to %s:%s (%s)", self.host, self.port, self.banner)
        for hook in list(self._connect_hooks):
            self._run_callback(hook, self)

    async def _supervise(self) -> None:
        """Keep-alive and reconnect loop; runs until close()."""
        delay = self.backoff_s[0]
        while not self._closing:
            protocol = self._protocol
            if protocol is not None and not protocol.closed.done():
                await self._keepalive(protocol)
                continue
            self._connected.clear()
            try:
                await asyncio.wait_for(self._open(), 10.0)
                delay = self.backoff_s[0]
            except (OSError, AmiError, TimeoutError) as error:
                log.warning(
                    "AMI: reconnect to %s:%s failed (%s); retry in %.1f s",
                    self.host,
                    self.port,
                    error,
                    delay,
                )
                await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
                delay = min(delay * 2, self.backoff_s[1])

    async def _keepalive(self, protocol: _AmiProtocol) -> None:
        """Wait for the connection to close; meanwhile Ping and insist on an answer."""
        try:
            await asyncio.wait_for(asyncio.shield(protocol.closed), self.ping_interval_s)
            return
        except TimeoutError:
            pass
        try:
            reply = await self._send({"Action": "Ping"}, timeout_s=self.ping_timeout_s)
            if reply.success:
                return
            log.warning("AMI: Ping answered with %s", reply.response)
        except AmiError as error:
            log.warning("AMI: no answer to Ping (%s); reconnecting", error)
        if protocol.transport is not None:
            protocol.transport.abort()
        await protocol.closed

    def _connection_lost(self, protocol: _AmiProtocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return
        self._connected.clear()
        if not self._closing:
            log.warning("AMI: connection to %s:%s lost (%s)", self.host, self.port, exc or "closed")
        self._fail_pending(AmiDisconnected("connection to Asterisk lost"))

    def _fail_pending(self, error: AmiError) -> None:
        for pending in list(self._pending.values()):
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()

    def _banner(self, line: str) -> None:
        self.banner = line

    # ------------------------------------------------------------ actions and events

    async def _send(self, action: Mapping[str, Any], timeout_s: float) -> AmiReply:
        protocol = self._protocol
        if protocol is None or protocol.transport is None or protocol.transport.is_closing():
            raise AmiDisconnected("not connected to Asterisk")
        action_id = str(action.get("ActionID") or self._next_id())
        pending = _Pending(action_id)
        self._pending[action_id] = pending
        protocol.transport.write(_encode({**action, "ActionID": action_id}))
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), timeout_s)
        except TimeoutError as error:
            name = action.get("Action")
            raise AmiError(f"no answer to {name} within {timeout_s} s") from error
        finally:
            self._pending.pop(action_id, None)
            if not pending.future.done():
                pending.future.cancel()

    def _dispatch(self, message: Message) -> None:
        action_id = _get(message, "ActionID")
        pending = self._pending.get(action_id) if action_id else None
        # An event may carry a Response header too (OriginateResponse does): Event decides.
        if "Event" not in message:
            if pending is None:
                return  # answer to an action that timed out: nothing waits for it
            reply = AmiReply(message)
            if _get(message, "EventList").lower() == "start" and reply.success:
                pending.reply = reply  # the list follows as events
            elif not pending.future.done():
                pending.future.set_result(reply)
            return
        if pending is not None and pending.reply is not None:
            if _get(message, "EventList").lower() == "complete":
                pending.reply.complete = message
                if not pending.future.done():
                    pending.future.set_result(pending.reply)
            else:
                pending.reply.events.append(message)
        # Every event reaches listeners, including the ones answering our own actions.
        name = _get(message, "Event").lower()
        for callback in (*self._listeners.get(name, ()), *self._listeners.get("*", ())):
            self._run_callback(callback, message)

    def _run_callback(self, callback: Callable[[Any], Awaitable[None] | None], arg: Any) -> None:
        try:
            result = callback(arg)
        except Exception:
            log.exception("AMI: callback %r failed", callback)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI: callback failed", exc_info=task.exception())


def _encode(action: Mapping[str, Any]) -> bytes:
    lines = []
    for key, value in action.items():
        values: Iterable[Any] = value if isinstance(value, list | tuple) else (value,)
        for item in values:
            # A CR or LF inside a value would start a new header: AMI injection.
            text = str(item).replace("\r", " ").replace("\n", " ")
            lines.append(f"{key}: {text}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")
