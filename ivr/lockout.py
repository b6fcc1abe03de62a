"""PIN lockout: after N wrong secrets within a window, both the calling number and the identity
(national ID, shareholder ID, claim code...) are locked until the window passes.

Counting per number stops one phone guessing many identities; counting per identity stops many
phones guessing one. Each attempt is counted before the secret is checked, atomically across
every FastAGI server sharing Redis (`tamas.limits`), so parallel calls cannot squeeze in more
guesses than the limit. Keys are HMACs under `lockout_secret`: a copy of Redis does not list
callers' numbers or national IDs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tamas.limits import Attempt, FailureLimiter, FailureStore, MemoryFailures, RedisFailures

__all__ = ["Attempt", "MemoryFailures", "PinGuard", "RedisFailures", "guard_for"]


class PinGuard:
    def __init__(
        self,
        store: FailureStore,
        max_failures: int = 3,
        window_s: int = 900,
        *,
        secret: bytes = b"",
    ) -> None:
        self.store = store
        self.max_failures = max_failures
        self.window_s = window_s
        self._limiter = FailureLimiter(store, max_failures, window_s, secret=secret)

    def _identity_key(self, identity: str) -> str:
        return self._limiter.key("id", identity)

    def keys(self, caller_number: str | None, identity: str) -> list[str]:
        """The store's keys for this caller and identity (HMACs: they name nobody)."""
        keys = [self._identity_key(identity)]
        if caller_number:
            keys.append(self._limiter.key("caller", caller_number))
        return keys

    @asynccontextmanager
    async def attempt(self, caller_number: str | None, identity: str) -> AsyncIterator[Attempt]:
        """One try at the secret, counted before it is checked: check it only when
        `attempt.admitted`; then `succeeded` (right), `given_up` (could not check), or
        nothing (wrong: the attempt stays counted; `exhausted` says if that locked it)."""
        async with self._limiter.attempt(self.keys(caller_number, identity)) as attempt:
            yield attempt

    def exhausted(self, attempt: Attempt) -> bool:
        """This (wrong) attempt was the last one allowed."""
        return not attempt.admitted or attempt.count >= self.max_failures

    async def locked(self, caller_number: str | None, identity: str) -> bool:
        return await self._limiter.full(self.keys(caller_number, identity))

    async def failed(self, caller_number: str | None, identity: str) -> bool:
        """Count a wrong secret checked elsewhere; True when the caller or identity is locked."""
        async with self.attempt(caller_number, identity) as attempt:
            return self.exhausted(attempt)

    async def succeeded(
        self, caller_number: str | None, identity: str, attempt: Attempt | None = None
    ) -> None:
        # Only the identity's count is cleared: clearing the number's count would let one phone
        # that knows a single valid PIN reset its budget for guessing everyone else's. The
        # right attempt itself is given back, so it does not count against the number.
        if attempt is not None:
            await self._limiter.succeeded(attempt)
        await self.store.clear(self._identity_key(identity))

    async def given_up(self, attempt: Attempt) -> None:
        await self._limiter.given_up(attempt)

    async def close(self) -> None:
        await self._limiter.close()


def guard_for(redis_url: str, max_failures: int, window_s: int, secret: bytes = b"") -> PinGuard:
    store: FailureStore = RedisFailures(redis_url) if redis_url else MemoryFailures()
    return PinGuard(store, max_failures, window_s, secret=secret)
