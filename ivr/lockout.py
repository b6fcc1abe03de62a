"""PIN lockout: after N wrong PINs within a window, both the calling number and the identity
(national ID, shareholder ID, ...) are locked until the window passes.

Counting per number stops one phone guessing many identities; counting per identity stops many
phones guessing one. The count lives in-process on a single box and in Redis when several
FastAGI servers share the load (settings.redis_url).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class FailureStore(Protocol):
    async def count(self, key: str, window_s: int) -> int:
        """Failures recorded under `key` within the last `window_s` seconds."""
        ...

    async def add(self, key: str, window_s: int) -> int:
        """Record one failure; return the count within the window including it."""
        ...

    async def clear(self, key: str) -> None: ...


class MemoryFailures:
    """Sliding-window counts in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _trim(self, key: str, window_s: int) -> deque[float]:
        stamps = self._failures[key]
        cutoff = self._clock() - window_s
        while stamps and stamps[0] <= cutoff:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return deque()
        return stamps

    async def count(self, key: str, window_s: int) -> int:
        return len(self._trim(key, window_s)) if key in self._failures else 0

    async def add(self, key: str, window_s: int) -> int:
        self._trim(key, window_s)
        self._failures[key].append(self._clock())
        return len(self._failures[key])

    async def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class RedisFailures:
    """Sliding-window counts in a Redis sorted set per key (score = time of the failure).

    When Redis cannot be reached the counts fall back to this process's memory, so a dead
    Redis weakens the limit to one box instead of switching it off or failing the call.
    """

    def __init__(
        self, url: str, prefix: str = "tamas:pin:", clock: Callable[[], float] = time.time
    ) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix
        self._clock = clock
        self._fallback = MemoryFailures(clock)

    async def count(self, key: str, window_s: int) -> int:
        now = self._clock()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(self._prefix + key, 0, now - window_s)
                pipe.zcard(self._prefix + key)
                _, count = await pipe.execute()
            return int(count)
        except Exception as error:
            log.warning("PIN failure store unreachable (%s); counting in this process", error)
            return await self._fallback.count(key, window_s)

    async def add(self, key: str, window_s: int) -> int:
        now = self._clock()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(self._prefix + key, 0, now - window_s)
                pipe.zadd(self._prefix + key, {f"{now}:{uuid.uuid4().hex[:8]}": now})
                pipe.zcard(self._prefix + key)
                pipe.expire(self._prefix + key, window_s)
                _, _, count, _ = await pipe.execute()
            return int(count)
        except Exception as error:
            log.warning("PIN failure store unreachable (%s); counting in this process", error)
            return await self._fallback.add(key, window_s)

    async def clear(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except Exception as error:
            log.warning("PIN failure store unreachable (%s)", error)
        await self._fallback.clear(key)

    async def close(self) -> None:
        await self._redis.aclose()


class PinGuard:
    def __init__(self, store: FailureStore, max_failures: int = 3, window_s: int = 900) -> None:
        self.store = store
        self.max_failures = max_failures
        self.window_s = window_s

    @staticmethod
    def _keys(caller_number: str | None, identity: str) -> list[str]:
        keys = [f"id:{_digest(identity)}"]
        if caller_number:
            keys.append(f"caller:{_digest(caller_number)}")
        return keys

    async def locked(self, caller_number: str | None, identity: str) -> bool:
        for key in self._keys(caller_number, identity):
            if await self.store.count(key, self.window_s) >= self.max_failures:
                return True
        return False

    async def failed(self, caller_number: str | None, identity: str) -> bool:
        """Count a wrong PIN; True when this failure locks the caller or the identity."""
        counts = [
            await self.store.add(key, self.window_s) for key in self._keys(caller_number, identity)
        ]
        return max(counts) >= self.max_failures

    async def succeeded(self, caller_number: str | None, identity: str) -> None:
        # Only the identity's count is cleared: clearing the number's count would let one phone
        # that knows a single valid PIN reset its budget for guessing everyone else's.
        await self.store.clear(f"id:{_digest(identity)}")


def _digest(value: str) -> str:
    # National IDs and phone numbers never appear in a store key (Redis keys are easy to list).
    return hashlib.sha256(value.encode()).hexdigest()[:24]


def guard_for(redis_url: str, max_failures: int, window_s: int) -> PinGuard:
    store: FailureStore = RedisFailures(redis_url) if redis_url else MemoryFailures()
    return PinGuard(store, max_failures, window_s)
