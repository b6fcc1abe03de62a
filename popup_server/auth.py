"""Logging agents in and out, finding the agent behind a request, and limiting login attempts.

The session token travels in an HttpOnly, SameSite=Strict cookie (scripts and the benchmark
may send it as `Authorization: Bearer`). Failed logins are counted per agent number and per
client address over a window (in Redis when configured, so shared by every process); past
the limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from aiohttp import web

from popup_server.agents import AgentDirectory, AgentIdentity

log = logging.getLogger(__name__)

COOKIE = "tamas_session"
LOGIN_WINDOW_S = 300.0


class LoginLimiter:
    """At most `limit` failed logins per key in `window_s` seconds, in this process.

    Keys are "agent:<number>" and "addr:<ip>", so guessing one agent's password from many
    addresses and many agents' passwords from one address are both slowed down.
    """

    def __init__(self, limit: int, window_s: float = LOGIN_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    async def retry_after_s(self, keys: list[str]) -> float:
        """0 if a login may be tried now, else seconds until one may."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            failures = self._failures.get(key)
            if not failures:
                continue
            while failures and now - failures[0] > self.window_s:
                failures.popleft()
            if len(failures) >= self.limit:
                wait = max(wait, self.window_s - (now - failures[0]))
        return wait

    async def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 100_000:  # bound memory under a spray of junk numbers
            self._failures.clear()

    async def succeeded(self, agent_key: str) -> None:
        self._failures.pop(agent_key, None)


class RedisLoginLimiter(LoginLimiter):
    """The same limit shared by every popup server process through Redis (a counter per key
    that expires with the window), so spreading guesses over processes gains nothing. If Redis
    is down, it falls back to this process's own count rather than refuse every login."""

    def __init__(self, url: str, limit: int, window_s: float = LOGIN_WINDOW_S) -> None:
        super().__init__(limit, window_s)
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)

    async def retry_after_s(self, keys: list[str]) -> float:
        from redis.exceptions import RedisError

        try:
            wait = 0.0
            for key in keys:
                count = await self._redis.get(_redis_key(key))
                if count is not None and int(count) >= self.limit:
                    wait = max(wait, float(await self._redis.ttl(_redis_key(key))))
            return wait
        except (RedisError, OSError) as error:
            log.warning("desktop: login limit from Redis unavailable (%s); counting locally", error)
            return await super().retry_after_s(keys)

    async def failed(self, keys: list[str]) -> None:
        from redis.exceptions import RedisError

        await super().failed(keys)
        try:
            for key in keys:
                count = await self._redis.incr(_redis_key(key))
                if count == 1:
                    await self._redis.expire(_redis_key(key), int(self.window_s))
        except (RedisError, OSError) as error:
            log.warning("desktop: cannot count a failed login in Redis (%s)", error)

    async def succeeded(self, agent_key: str) -> None:
        from redis.exceptions import RedisError

        await super().succeeded(agent_key)
        try:
            await self._redis.delete(_redis_key(agent_key))
        except (RedisError, OSError) as error:
            log.warning("desktop: cannot reset a login count in Redis (%s)", error)

    async def close(self) -> None:
        await self._redis.aclose()


def _redis_key(key: str) -> str:
    return f"tamas:login-failures:{key}"


def make_login_limiter(redis_url: str, limit: int) -> LoginLimiter:
    return RedisLoginLimiter(redis_url, limit) if redis_url else LoginLimiter(limit)


def token_of(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE, "")


async def current_agent(request: web.Request) -> AgentIdentity | None:
    directory: AgentDirectory = request.app[DIRECTORY]
    return await directory.agent_for_token(token_of(request))


async def require_agent(request: web.Request) -> AgentIdentity:
    agent = await current_agent(request)
    if agent is None:
        raise web.HTTPUnauthorized(
            text='{"error": "not logged in or session expired"}', content_type="application/json"
        )
    return agent


async def read_json(request: web.Request, max_bytes: int = 16_384) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong."""
    if request.content_type != "application/json":
        # Also a CSRF guard: a cross-site form cannot send application/json.
        raise web.HTTPUnsupportedMediaType(
            text='{"error": "send application/json"}', content_type="application/json"
        )
    if request.content_length is not None and request.content_length > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=request.content_length)
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "body is not JSON"}', content_type="application/json"
        ) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    number, password = body.get("agent"), body.get("password")
    if not isinstance(number, str) or not isinstance(password, str) or not number:
        return web.json_response({"error": "agent and password are required"}, status=400)
    limiter: LoginLimiter = request.app[LIMITER]
    keys = [f"agent:{number[:32]}", f"addr:{request.remote}"]
    wait = await limiter.retry_after_s(keys)
    if wait > 0:
        return web.json_response(
            {"error": "too many failed logins; try again later", "retry_after_s": round(wait)},
            status=429,
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    directory: AgentDirectory = request.app[DIRECTORY]
    new = await directory.log_in(number, password[:256])
    if new is None:
        await limiter.failed(keys)
        log.info("desktop: failed login for agent %s from %s", number[:32], request.remote)
        return web.json_response({"error": "wrong agent number or password"}, status=401)
    await limiter.succeeded(keys[0])
    response = web.json_response(agent_json(new.agent))
    max_age = int(new.agent.session_expires_at.timestamp() - time.time())
    response.set_cookie(
        COOKIE, new.token, max_age=max_age, httponly=True, samesite="Strict", path="/"
    )
    return response


async def logout(request: web.Request) -> web.Response:
    directory: AgentDirectory = request.app[DIRECTORY]
    token = token_of(request)
    if token:
        await directory.log_out(token)
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(agent_json(await require_agent(request)))


def agent_json(agent: AgentIdentity) -> dict[str, Any]:
    return {
        "number": agent.number,
        "name": agent.name,
        "language": agent.language,
        "roles": sorted(agent.roles),
        "session_expires_at": agent.session_expires_at.isoformat(),
    }


DIRECTORY = web.AppKey("directory", AgentDirectory)
LIMITER = web.AppKey("login_limiter", LoginLimiter)
