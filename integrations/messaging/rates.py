"""A provider's sending rate, held exactly: at most `per_s` requests reach the provider in any
second, counted before each request in one atomic step, in Redis (a Lua script on Redis's
own clock: every sender process, on any box, shares one window) or, without Redis, in this
process.

Exactly at the provider, not only here: a request admitted at 10.000 s may reach the provider
some milliseconds later (a loaded event loop, a slow network), and the next one admitted at
11.000 s could then land in the same provider second. So a request holds its place in the
window from its admission until its answer comes back (`done`), and only then takes the
moment of the answer as its own: the provider received it no later than that. A request
whose sender died holds its place for `HOLD_S` at most.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)
# How long a request still in flight keeps its place (its sender may have died mid-request).
HOLD_S = 30.0
# How often a sender looks again while every place is held by a request in flight.
POLL_S = 0.005

# KEYS[1]: the provider's window. ARGV: (unused), window, limit, the request's name, hold.
# In-flight requests are scored in the future (now + hold), so they count until `done`. The
# moment is Redis's own clock: senders on several boxes need not agree on the time.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000"
_TAKE = (
    _NOW
    + """
local window, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if oldest > now then return {0, '0'} end
  return {0, tostring(oldest + window - now)}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window + tonumber(ARGV[5])))
return {1, '0'}
"""
)
# ARGV: (unused), the request's name: its place now ends a second after the answer.
_DONE = _NOW + " redis.call('ZADD', KEYS[1], 'XX', now, ARGV[2]) return 1"


class _MemoryWindow:
    """The same window in this process."""

    def __init__(self) -> None:
        self._moments: dict[str, float] = {}

    async def take(self, now: float, window_s: float, limit: int, name: str) -> float | None:
        for key in [key for key, at in self._moments.items() if at <= now - window_s]:
            del self._moments[key]
        if len(self._moments) >= limit:
            oldest = min(self._moments.values())
            return 0.0 if oldest > now else oldest + window_s - now
        self._moments[name] = now + HOLD_S
        return None

    async def done(self, now: float, name: str) -> None:
        if name in self._moments:
            self._moments[name] = now


class _RedisWindow:
    def __init__(self, url: str, key: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._take = self._redis.register_script(_TAKE)
        self._done = self._redis.register_script(_DONE)
        self._key = key
        self._fallback = _MemoryWindow()

    async def take(self, now: float, window_s: float, limit: int, name: str) -> float | None:
        from redis.exceptions import RedisError

        try:
            admitted, wait = await self._take(
                keys=[self._key], args=[repr(now), repr(window_s), limit, name, repr(HOLD_S)]
            )
        except (RedisError, OSError) as error:
            # Held by this process alone until Redis is back: a dead Redis must not stop SMS.
            log.warning("sending rate unreachable in Redis (%s); held in this process", error)
            return await self._fallback.take(now, window_s, limit, name)
        return None if admitted else float(wait)

    async def done(self, now: float, name: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._done(keys=[self._key], args=[repr(now), name])
        except (RedisError, OSError) as error:
            log.warning("sending rate unreachable in Redis (%s)", error)
        await self._fallback.done(now, name)

    async def close(self) -> None:
        await self._redis.aclose()


class SendingRate:
    def __init__(
        self,
        provider: str,
        per_s: int,
        redis_url: str = "",
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if per_s < 1:
            raise ValueError(f"the sending rate of {provider} must be at least 1 per second")
        self.provider = provider
        self.per_s = per_s
        self.window_s = 1.0
        self._clock = clock
        self._window: Any = (
            _RedisWindow(redis_url, f"tamas:sending-rate:{provider}")
            if redis_url
            else _MemoryWindow()
        )

    async def take(self) -> str:
        """Wait until one more request fits in the window and hold its place; its name, for
        `done` once the provider has answered (or the request failed)."""
        name = uuid.uuid4().hex
        while True:
            wait = await self._window.take(self._clock(), self.window_s, self.per_s, name)
            if wait is None:
                return name
            await asyncio.sleep(max(wait, POLL_S))

    async def done(self, name: str) -> None:
        await self._window.done(self._clock(), name)

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """A request's place in the window, from admission to its answer."""
        name = await self.take()
        try:
            yield
        finally:
            await asyncio.shield(self.done(name))

    async def close(self) -> None:
        close = getattr(self._window, "close", None)
        if close is not None:
            await close()


def most_in_any_second(moments: list[float]) -> int:
    """The most moments within any one second (a sliding second): what a provider counting
    per second could have seen at worst."""
    ordered = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
