"""The event bus: typed events published by one part (the call follower, the dialer) and
received by others (agent desktops, wallboards), in one process or across several.

`InProcessBus` serves one box; `RedisBus` (Redis pub/sub) lets several processes behind a load
balancer share events. `make_bus(settings)` picks one from `settings.redis_url`. Every event
type declares its name, payload and audience once (see `Event`); receivers only ever check
`message.audience.admits(...)`, they never decide visibility themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

log = logging.getLogger(__name__)

DEFAULT_REDIS_CHANNEL = "tamas:bus"
POOL_CONNECTIONS = 16


class BusError(Exception):
    """The bus cannot deliver; the message says what is wrong and how to fix it."""


class MalformedMessage(BusError):
    """Bytes on the bus that are not a Tamas bus message."""


@dataclass(frozen=True)
class Audience:
    """Who may see an event: named agents, and/or everybody holding one of the roles."""

    agents: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()

    @classmethod
    def agent(cls, number: str) -> Audience:
        return cls(agents=frozenset({number}))

    @classmethod
    def role(cls, name: str) -> Audience:
        return cls(roles=frozenset({name}))

    def admits(self, agent: str, roles: Iterable[str] = ()) -> bool:
        return agent in self.agents or not self.roles.isdisjoint(roles)

    def as_dict(self) -> dict[str, list[str]]:
        return {"agents": sorted(self.agents), "roles": sorted(self.roles)}


@dataclass(frozen=True)
class Message:
    """One event as it travels: its name, JSON payload, audience and when it was published
    (`published_at` is wall-clock seconds, comparable across processes on one box)."""

    name: str
    payload: Mapping[str, Any]
    audience: Audience
    published_at: float = field(default_factory=time.time)
    # When the fact behind the event happened (e.g. the AMI event arrived); for latency.
    observed_at: float | None = None
    # The bus that published it, so that bus does not deliver it a second time from Redis.
    origin: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "payload": self.payload,
                "audience": self.audience.as_dict(),
                "published_at": self.published_at,
                "observed_at": self.observed_at,
                "origin": self.origin,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> Message:
        try:
            data = json.loads(raw)
            audience = data["audience"]
            return cls(
                name=str(data["name"]),
                payload=dict(data["payload"]),
                audience=Audience(
                    agents=frozenset(str(a) for a in audience.get("agents", ())),
                    roles=frozenset(str(r) for r in audience.get("roles", ())),
                ),
                published_at=float(data["published_at"]),
                observed_at=None if data.get("observed_at") is None else float(data["observed_at"]),
                origin=str(data.get("origin") or ""),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise MalformedMessage(f"not a bus message: {error}") from error


class Event(ABC):
    """A typed event. Subclasses set `name` and say what they carry and who may see it."""

    name: ClassVar[str]

    @abstractmethod
    def payload(self) -> dict[str, Any]: ...

    @abstractmethod
    def audience(self) -> Audience: ...

    def observed_at(self) -> float | None:
        return None

    def to_message(self) -> Message:
        return Message(self.name, self.payload(), self.audience(), observed_at=self.observed_at())


Handler = Callable[[Message], Awaitable[None]]


class Bus(ABC):
    """Publish events; subscribe handlers that receive every message published anywhere."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Register a handler; returns a function that unsubscribes it."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._handlers.remove(handler)

        return unsubscribe

    async def _deliver(self, message: Message) -> None:
        # One broken handler must not keep the message from the others.
        for handler in list(self._handlers):
            try:
                await handler(message)
            except Exception:
                log.exception("bus handler %r failed on %s", handler, message.name)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect (no-op for the in-process bus)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Disconnect and stop delivering."""

    @abstractmethod
    async def publish(self, event: Event | Message) -> None: ...


class InProcessBus(Bus):
    """Delivers to this process's handlers, in order, before `publish` returns."""

    async def publish(self, event: Event | Message) -> None:
        message = event if isinstance(event, Message) else event.to_message()
        await self._deliver(message)


class RedisBus(Bus):
    """Redis pub/sub on one channel: every process subscribed gets every message, and
    each process delivers it to its own handlers (the audience filters later).

    A message is delivered to this process's handlers first, straight away, and then sent to
    Redis for the others (which skip it when it comes back here, by its `origin`). So with
    Redis down the desktops connected to the publishing process still get their popups.
    A dead Redis never crashes the process: `publish` raises `BusError` with the cause, keeps
    the message in a bounded backlog, and the listener retries with a growing pause; once it
    is subscribed again it sends the backlog (messages younger than `backlog_max_age_s`), so
    the other processes catch up. Pub/sub keeps nothing for a process that is not subscribed
    at that moment: the backlog waits `catch_up_delay_s` after reconnecting, time for the
    other processes (retrying on the same schedule) to subscribe again.
    """

    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_REDIS_CHANNEL,
        retry_max_s: float = 5.0,
        *,
        backlog_max: int = 1000,
        backlog_max_age_s: float = 120.0,
        catch_up_delay_s: float = 1.0,
    ) -> None:
        super().__init__()
        import redis.asyncio as redis  # imported here: one-box setups never need it

        self.url = url
        self.channel = channel
        self.retry_max_s = retry_max_s
        # A bounded pool that makes publishers wait for a connection: a burst of events must
        # queue up, not open connections until Redis refuses more ("Too many connections").
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_CONNECTIONS, timeout=5.0, socket_connect_timeout=2.0
        )
        self._redis = redis.Redis(connection_pool=pool)
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self.connected = False
        self.origin = uuid.uuid4().hex
        # Messages Redis has not taken yet, oldest first; the oldest go when it is full.
        self._backlog: deque[Message] = deque(maxlen=backlog_max)
        self.backlog_max_age_s = backlog_max_age_s
        self.catch_up_delay_s = catch_up_delay_s

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="redis-bus-listener")
        # Wait briefly for the subscription so a message published right after start() is
        # not missed; with Redis down we go on and the listener keeps retrying.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=2.0)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._redis.aclose(close_connection_pool=True)

    async def publish(self, event: Event | Message) -> None:
        from redis.exceptions import RedisError

        message = event if isinstance(event, Message) else event.to_message()
        message = replace(message, origin=self.origin)
        # This process's desktops need no Redis: deliver to them before anything can fail.
        await self._deliver(message)
        if self._backlog:
            # Redis was down: keep the order; the listener sends the backlog once it is back.
            self._backlog.append(message)
            if not self.connected:
                raise BusError(
                    f"Redis at {_safe_url(self.url)} is down; {message.name} delivered in this "
                    "process only, the others get it when Redis is back "
                    "(is redis-server running? check the redis_url setting)"
                )
            return
        try:
            await self._redis.publish(self.channel, message.to_json())
        except (RedisError, OSError) as error:
            self._backlog.append(message)
            raise BusError(
                f"cannot publish {message.name} to Redis at {_safe_url(self.url)}: {error} "
                "(is redis-server running? check the redis_url setting); delivered in this "
                "process, the others get it when Redis is back"
            ) from error

    @property
    def backlog(self) -> int:
        """Messages waiting for Redis to come back."""
        return len(self._backlog)

    async def _catch_up(self) -> None:
        """Send the backlog to Redis in order; what is too old to matter is dropped."""
        from redis.exceptions import RedisError

        dropped = 0
        while self._backlog:
            message = self._backlog[0]
            if time.time() - message.published_at > self.backlog_max_age_s:
                self._backlog.popleft()
                dropped += 1
                continue
            try:
                await self._redis.publish(self.channel, message.to_json())
            except (RedisError, OSError) as error:
                log.warning("bus: catching up on Redis failed (%s); will retry", error)
                return
            self._backlog.popleft()
        if dropped:
            log.warning("bus: %d messages too old to send after the Redis outage", dropped)

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        pause_s = 0.2
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if not self.connected:
                    log.info("bus: subscribed to Redis channel %s", self.channel)
                self.connected = True
                self._subscribed.set()
                pause_s = 0.2
                catch_up_at: float | None = None
                while True:
                    if self._backlog and catch_up_at is None:
                        catch_up_at = time.monotonic() + self.catch_up_delay_s
                    if catch_up_at is not None and time.monotonic() >= catch_up_at:
                        catch_up_at = None
                        await self._catch_up()
                    item = await pubsub.get_message(timeout=0.2 if catch_up_at else 1.0)
                    if item is None or item.get("type") != "message":
                        continue
                    try:
                        message = Message.from_json(item["data"])
                    except MalformedMessage as error:
                        log.warning("bus: dropped a malformed message: %s", error)
                        continue
                    if message.origin == self.origin:
                        continue  # delivered here when it was published
                    await self._deliver(message)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            except (RedisError, OSError) as error:
                if self.connected:
                    log.error("bus: lost Redis at %s (%s); retrying", _safe_url(self.url), error)
                else:
                    log.warning(
                        "bus: Redis at %s unreachable (%s); retrying in %.1f s",
                        _safe_url(self.url),
                        error,
                        pause_s,
                    )
                self.connected = False
                self._subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                await asyncio.sleep(pause_s)
                pause_s = min(pause_s * 2, self.retry_max_s)


def _safe_url(url: str) -> str:
    """The Redis URL without its password, for log lines."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def make_bus(redis_url: str, channel: str = DEFAULT_REDIS_CHANNEL) -> Bus:
    """The bus the settings ask for: Redis when `redis_url` is set, else in-process."""
    if redis_url:
        return RedisBus(redis_url, channel=channel)
    return InProcessBus()
