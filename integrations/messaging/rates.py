"""A provider's sending rate, held exactly: at most `per_s` requests in any sliding second,
counted before each request in one atomic step (tamas/limits.py's sliding window: a Lua script
in Redis shared by every sender process, or this process's memory without Redis).

Providers throttle past their contracted rate (an HTTP 429, SMPP's ESME_RTHROTTLED) and some
suspend the account for it, so the window is a little longer than a second (`margin_s`): a
request admitted at the window's edge may reach the provider a few milliseconds later than
it left, and must still fall in the provider's next second.
"""

from __future__ import annotations

import asyncio
import uuid

from tamas.limits import FailureStore, MemoryFailures, RedisFailures

# Network jitter between the admission here and the arrival at the provider.
MARGIN_S = 0.02


class SendingRate:
    def __init__(
        self,
        provider: str,
        per_s: int,
        store: FailureStore | None = None,
        *,
        margin_s: float = MARGIN_S,
    ) -> None:
        if per_s < 1:
            raise ValueError(f"the sending rate of {provider} must be at least 1 per second")
        self.provider = provider
        self.per_s = per_s
        self.window_s = 1.0 + margin_s
        self._store = store or MemoryFailures()
        self._key = f"sms-rate:{provider}"

    @classmethod
    def shared(cls, provider: str, per_s: int, redis_url: str) -> SendingRate:
        """Held across every process using `redis_url` (this process alone without it)."""
        store: FailureStore = (
            RedisFailures(redis_url, prefix="tamas:sending-rate:")
            if redis_url
            else MemoryFailures()
        )
        return cls(provider, per_s, store)

    async def take(self) -> None:
        """Wait until one more request fits in the window, and count it."""
        while True:
            taken = await self._store.take([self._key], self.per_s, self.window_s, uuid.uuid4().hex)
            if taken.admitted:
                return
            await asyncio.sleep(max(taken.retry_after_s, 0.001))

    async def close(self) -> None:
        await self._store.close()
