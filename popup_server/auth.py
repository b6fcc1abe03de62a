"""Logging agents in and out, finding the agent behind a request, and limiting login attempts.

The session token travels in an HttpOnly, SameSite=Strict cookie (scripts and the benchmark
may send it as `Authorization: Bearer`). Login attempts are counted per agent number and per
client address over a window before the password is checked (`tamas.limits`; in Redis when
configured, so shared by every process); past the limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from popup_server.agents import AgentDirectory, AgentIdentity, session_key
from popup_server.roles import Role
from tamas.limits import FailureLimiter, FailureStore, MemoryFailures, RedisFailures
from tamas.settings import Settings, SettingsError

log = logging.getLogger(__name__)

COOKIE = "tamas_session"
LOGIN_WINDOW_S = 300.0
# Checks of one agent number or one address running at once; more wait their turn outside
# (429, Retry-After: 1) instead of queueing for the hashing threads.
LOGIN_CHECKS_PER_KEY = 2

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def make_login_limiter(settings: Settings) -> FailureLimiter:
    """Keys are "agent:<number>" and "addr:<client>" (as HMACs), so guessing one agent's
    password from many addresses and many agents' passwords from one address are both slowed."""
    store: FailureStore = (
        RedisFailures(settings.redis_url, prefix="tamas:login-failures:")
        if settings.redis_url
        else MemoryFailures()
    )
    return FailureLimiter(
        store,
        settings.agent_login_limit,
        LOGIN_WINDOW_S,
        secret=settings.effective_lockout_secret,
        max_concurrent=LOGIN_CHECKS_PER_KEY,
    )


def networks(setting: str, entries: Sequence[str]) -> tuple[Network, ...]:
    """An address allow-list setting, parsed once at start; a bad entry stops the start with
    the setting's name."""
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise SettingsError(f"setting {setting!r}: {error}") from error


def trusted_proxies(settings: Settings) -> tuple[Network, ...]:
    return networks("http_trusted_proxies", settings.http_trusted_proxies)


def client_address(request: web.Request, proxies: Sequence[Network]) -> str:
    """The address of the client behind our own proxies: X-Forwarded-For is read from the
    right, skipping proxies we trust; the first hop we don't trust is the client (anything to
    its left was written by the client itself and proves nothing)."""
    remote = request.remote or ""
    if not in_networks(remote, proxies):
        return remote
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    client = remote
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed hop: keep the last address a trusted proxy vouched for
        client = hop
        if not in_networks(hop, proxies):
            break
    return client


def in_networks(address: str, proxies: Sequence[Network]) -> bool:
    """Whether `address` is in one of the networks (False for anything not an address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


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


async def require_role(request: web.Request, role: Role) -> AgentIdentity:
    """The logged-in user if they hold `role`: 401 when not logged in, 403 when they lack it
    (every page and action of a role goes through here, so the rule is stated once)."""
    agent = await require_agent(request)
    if role.value not in agent.roles:
        raise web.HTTPForbidden(
            text=f'{{"error": "this needs the {role.value} role"}}',
            content_type="application/json",
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
    limiter = request.app[LIMITER]
    agent_key = limiter.key("agent", number[:32])
    proxies = request.app[TRUSTED_PROXIES]
    address = client_address(request, proxies)
    async with limiter.attempt([agent_key, limiter.key("addr", address)]) as attempt:
        if not attempt.admitted:
            wait = max(1, round(attempt.retry_after_s))
            error = (
                "another login for this agent or address is being checked; try again"
                if attempt.busy
                else "too many failed logins; try again later"
            )
            return web.json_response(
                {"error": error, "retry_after_s": wait},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        directory: AgentDirectory = request.app[DIRECTORY]
        new = await directory.log_in(number, password[:256])
        if new is None:
            log.info("desktop: failed login for agent %s from %s", number[:32], address)
            return web.json_response({"error": "wrong agent number or password"}, status=401)
        await limiter.succeeded(attempt, forget=[agent_key])
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
        agent = await directory.agent_for_token(token)
        await directory.log_out(token)
        if agent is not None and SESSION_ENDED in request.app:
            # The desktop's websockets of this session close too (in every process).
            await request.app[SESSION_ENDED](agent.number, session_key(token), "logged_out")
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
# (agent, session key or None for all, reason): closes those sessions' websockets.
SESSION_ENDED: web.AppKey[Callable[[str, str | None, str], Awaitable[None]]] = web.AppKey(
    "session_ended"
)
LIMITER = web.AppKey("login_limiter", FailureLimiter)
TRUSTED_PROXIES: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies")
