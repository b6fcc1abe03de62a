"""Slowing guessing down: at most `limit` attempts at a secret per key (an agent number, a
client address, a caller's number, a claim) within a sliding window.

The attempt is counted before the secret is checked, in one atomic step that also refuses it
when the key is full (a Lua script in Redis; a lock in this process), so forty parallel
guesses with a limit of five get five checks, not forty. A right secret gives its attempt
back. Keys are HMACs under a secret from the settings: a copy of Redis does not list who
called or which agent numbers exist.

Two stores: `MemoryFailures` for one process, `RedisFailures` shared by every process (and
falling back to this process's memory while Redis is down, so a dead Redis weakens the limit
to one box instead of switching it off or refusing everyone).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Take:
    """What a store answered to one attempt."""

    admitted: bool
    # The highest count among the keys, this attempt included when admitted.
    count: int
    # When refused: seconds until the oldest counted attempt leaves the window.
    retry_after_s: float = 0.0


class FailureStore(Protocol):
    async def take(self, keys: Sequence[str], limit: int, window_s: float, mark: str) -> Take:
        """Atomically: refuse when any key already holds `limit` attempts within the window,
        else count one attempt, named `mark`, under every key."""
        ...

    async def count(self, key: str, window_s: float) -> int:
        """Attempts counted under `key` within the window."""
        ...

    async def give_back(self, keys: Sequence[str], mark: str) -> None:
        """Forget the attempt named `mark` (it was right)."""
        ...

    async def clear(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryFailures:
    """Sliding-window counts in this process.

    Bounded: past `max_keys` keys, expired ones are dropped first, then the least recently
    counted (never every count at once, which a spray of junk numbers could otherwise cause
    to wipe a real guesser's count). Swept of expired counts every `sweep_every_s` while an
    event loop runs, so quiet keys do not hold memory.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
        sweep_every_s: float = 60.0,
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._sweep_every_s = sweep_every_s
        self._attempts: OrderedDict[str, deque[tuple[float, str]]] = OrderedDict()
        self._longest_window_s = 0.0
        self._lock = threading.Lock()
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweeper_loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._attempts)

    def _trim(self, key: str, now: float, window_s: float) -> deque[tuple[float, str]]:
        stamps = self._attempts.get(key)
        if stamps is None:
            return deque()
        cutoff = now - window_s
        while stamps and stamps[0][0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._attempts[key]
        return stamps

    async def take(self, keys: Sequence[str], limit: int, window_s: float, mark: str) -> Take:
        self._keep_swept()
        with self._lock:
            now = self._clock()
            self._longest_window_s = max(self._longest_window_s, window_s)
            counts = [len(self._trim(key, now, window_s)) for key in keys]
            full = [key for key, count in zip(keys, counts, strict=True) if count >= limit]
            if full:
                oldest = min(self._attempts[key][0][0] for key in full)
                return Take(False, max(counts), max(0.0, oldest + window_s - now))
            for key in keys:
                stamps = self._attempts.setdefault(key, deque())
                stamps.append((now, mark))
                self._attempts.move_to_end(key)
            self._bound(now)
            return Take(True, max(counts, default=0) + 1)

    async def count(self, key: str, window_s: float) -> int:
        with self._lock:
            return len(self._trim(key, self._clock(), window_s))

    async def give_back(self, keys: Sequence[str], mark: str) -> None:
        with self._lock:
            for key in keys:
                stamps = self._attempts.get(key)
                if stamps is None:
                    continue
                kept = deque(stamp for stamp in stamps if stamp[1] != mark)
                if kept:
                    self._attempts[key] = kept
                else:
                    del self._attempts[key]

    async def clear(self, key: str) -> None:
        with self._lock:
            self._attempts.pop(key, None)

    def sweep(self) -> int:
        """Drop every expired count; returns how many keys were dropped."""
        with self._lock:
            return self._sweep(self._clock())

    def _sweep(self, now: float) -> int:
        before = len(self._attempts)
        for key in list(self._attempts):
            self._trim(key, now, self._longest_window_s)
        return before - len(self._attempts)

    def _bound(self, now: float) -> None:
        if len(self._attempts) <= self._max_keys:
            return
        self._sweep(now)
        while len(self._attempts) > self._max_keys:
            self._attempts.popitem(last=False)

    def _keep_swept(self) -> None:
        """A timer on the running loop, re-armed after each sweep (a timer handle, not a task:
        nothing is left pending when the loop closes)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._sweeper is not None and self._sweeper_loop is loop:
            return
        self._sweeper_loop = loop

        def sweep_and_rearm() -> None:
            self._sweeper = None
            self.sweep()
            if self._attempts and not loop.is_closed():
                self._sweeper = loop.call_later(self._sweep_every_s, sweep_and_rearm)

        self._sweeper = loop.call_later(self._sweep_every_s, sweep_and_rearm)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None


# Check and count in one step inside Redis, so no two servers both see "one attempt left".
# KEYS: the counted keys. ARGV: now (s), window (s), limit, the attempt's name.
_TAKE = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local highest, wait = 0, 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local left = tonumber(oldest[2]) + window - now
    if left > wait then wait = left end
  end
  if count > highest then highest = count end
end
if wait > 0 then return {0, highest, tostring(wait)} end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(window))
end
return {1, highest + 1, '0'}
"""


class RedisFailures:
    """Sliding-window counts in a Redis sorted set per key (score = time of the attempt),
    shared by every server using the same Redis."""

    def __init__(
        self, url: str, prefix: str = "tamas:pin:", clock: Callable[[], float] = time.time
    ) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._redis.register_script(_TAKE)
        self._prefix = prefix
        self._clock = clock
        self._fallback = MemoryFailures(clock)

    async def take(self, keys: Sequence[str], limit: int, window_s: float, mark: str) -> Take:
        from redis.exceptions import RedisError

        try:
            admitted, count, wait = await self._take(
                keys=[self._prefix + key for key in keys],
                args=[repr(self._clock()), repr(float(window_s)), limit, mark],
            )
            return Take(bool(admitted), int(count), float(wait))
        except (RedisError, OSError) as error:
            log.warning("failure counts unreachable in Redis (%s); counting in this process", error)
            return await self._fallback.take(keys, limit, window_s, mark)

    async def count(self, key: str, window_s: float) -> int:
        from redis.exceptions import RedisError

        now = self._clock()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(self._prefix + key, "-inf", now - window_s)
                pipe.zcard(self._prefix + key)
                _, count = await pipe.execute()
            return int(count)
        except (RedisError, OSError) as error:
            log.warning("failure counts unreachable in Redis (%s); counting in this process", error)
            return await self._fallback.count(key, window_s)

    async def give_back(self, keys: Sequence[str], mark: str) -> None:
        from redis.exceptions import RedisError

        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zrem(self._prefix + key, mark)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("failure counts unreachable in Redis (%s)", error)
        await self._fallback.give_back(keys, mark)

    async def clear(self, key: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.delete(self._prefix + key)
        except (RedisError, OSError) as error:
            log.warning("failure counts unreachable in Redis (%s)", error)
        await self._fallback.clear(key)

    async def close(self) -> None:
        await self._fallback.close()
        await self._redis.aclose()


@dataclass
class Attempt:
    """One attempt at a secret, already counted under `keys` unless refused."""

    keys: tuple[str, ...]
    admitted: bool
    count: int
    retry_after_s: float
    # Refused, uncounted, because other checks of one of the keys are running right now.
    busy: bool = False
    mark: str = field(default_factory=lambda: f"{time.time():.6f}:{uuid.uuid4().hex[:12]}")


class FailureLimiter:
    """At most `limit` attempts per key within `window_s`, and at most `max_concurrent`
    checks of one key at a time in this process (None: only the count bounds them)."""

    def __init__(
        self,
        store: FailureStore,
        limit: int,
        window_s: float,
        *,
        secret: bytes = b"",
        max_concurrent: int | None = None,
    ) -> None:
        self.store = store
        self.limit = limit
        self.window_s = window_s
        self._secret = secret
        self._max_concurrent = max_concurrent
        self._checking: dict[str, int] = {}

    def key(self, kind: str, value: str) -> str:
        """The store's key for `value` (an agent number, an address, a phone number...)."""
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}:{digest[:32]}"

    @asynccontextmanager
    async def attempt(self, keys: Sequence[str]) -> AsyncIterator[Attempt]:
        """Count an attempt before the secret is checked. Inside the block the caller checks
        the secret only if `attempt.admitted`, and calls `succeeded` when it was right."""
        keys = tuple(keys)
        if self._max_concurrent is not None and any(
            self._checking.get(key, 0) >= self._max_concurrent for key in keys
        ):
            # Not counted: nothing was tried. Back in a moment, when the checks under way end.
            yield Attempt(keys, admitted=False, count=0, retry_after_s=1.0, busy=True)
            return
        for key in keys:
            self._checking[key] = self._checking.get(key, 0) + 1
        try:
            attempt = Attempt(keys, admitted=False, count=0, retry_after_s=0.0)
            taken = await self.store.take(keys, self.limit, self.window_s, attempt.mark)
            attempt.admitted = taken.admitted
            attempt.count = taken.count
            attempt.retry_after_s = taken.retry_after_s
            yield attempt
        finally:
            for key in keys:
                left = self._checking[key] - 1
                if left:
                    self._checking[key] = left
                else:
                    del self._checking[key]

    async def succeeded(self, attempt: Attempt, *, forget: Sequence[str] = ()) -> None:
        """The secret was right: the attempt is given back, and the keys in `forget` start
        counting afresh (an identity's count, never the phone's or the address's)."""
        if attempt.admitted:
            await self.store.give_back(attempt.keys, attempt.mark)
        for key in forget:
            await self.store.clear(key)

    async def given_up(self, attempt: Attempt) -> None:
        """Nothing was learnt from the attempt (the check could not run): give it back."""
        if attempt.admitted:
            await self.store.give_back(attempt.keys, attempt.mark)

    async def full(self, keys: Sequence[str]) -> bool:
        """True when any key has no attempt left in the window."""
        for key in keys:
            if await self.store.count(key, self.window_s) >= self.limit:
                return True
        return False

    async def close(self) -> None:
        await self.store.close()
