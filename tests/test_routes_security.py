"""Every route of the web app, read from the app itself (a route added later is swept without
editing this file): nobody gets data without a session or the credential a public route
checks, a plain agent gets 403 from every role's page and API, junk bodies are 4xx and never
5xx, and every HTML page carries the security headers."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from popup_support import PASSWORD, RunningServer, client, listen, logged_in
from routes_support import (
    PAGES,
    Route,
    body_keys,
    collected_routes,
    credential_of,
    is_public_shell,
    is_role_route,
    reads_body,
    role_of,
    routes_of,
    the_app,
)

from cases import partners as partner_file
from cases import reports as case_reports
from integrations.database import Database
from integrations.messaging.outbox import Outbox
from integrations.migrations import upgrade
from messaging import notice_kinds
from messaging.core_events import signature
from popup_server.app import SERVER
from popup_server.auth import COOKIE
from popup_server.roles import Role
from supervisors import reports as supervisor_reports
from tamas.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROUTES = collected_routes()
CORE_SECRET = "core-events-secret-for-the-sweep"
SMS_SECRET = "sms-webhook-secret-for-the-sweep"
PARTNER_KEY = "ab" * 32
PLAIN, EVERY_ROLE = "101", "900"
REFUSED = {401, 403}


@dataclass
class Sweep:
    server: RunningServer
    values: dict[str, str]
    partner_token: str

    def path(self, route: Route) -> str:
        values = dict(self.values)
        # Two features name different things `{name}` / `{kind}`: the real one of each.
        if route.pattern.startswith("/api/cases/reports/"):
            values["name"] = case_reports.REPORTS[0]
        if route.pattern.startswith("/api/notices/templates/"):
            values["kind"] = next(iter(notice_kinds.load()))
        return route.path(values)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sweep(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sweep]:
    """One server for the module (SQLite), with a plain agent, an account holding every role,
    the webhooks' secrets and a partner, and one real object of each kind a path names."""
    folder = tmp_path_factory.mktemp("routes")
    partners = folder / "partners.yaml"
    partners.write_text(
        f'partners:\n  acme: {{name: Acme, keys: {{"k1": "{PARTNER_KEY}"}}, '
        "may_open: [callback]}\n",
        encoding="utf-8",
    )
    settings = Settings(
        core_events_secret=CORE_SECRET,
        sms_webhook_secret=SMS_SECRET,
        cases_partners_path=str(partners),
    )
    url = f"sqlite+aiosqlite:///{folder / 'tamas.sqlite3'}"
    await upgrade(url)
    database = Database(url)
    app = the_app(settings, database)
    runner, base = await listen(app)
    server = RunningServer(app, runner, base)
    directory = app[SERVER].directory
    await directory.create_agent(PLAIN, PASSWORD, f"Local/{PLAIN}@x", password_cost=2**10)
    await directory.create_agent(
        EVERY_ROLE,
        PASSWORD,
        f"Local/{EVERY_ROLE}@x",
        roles=",".join(role.value for role in Role),
        password_cost=2**10,
    )
    for role, number in ONE_ROLE.items():
        await directory.create_agent(
            number, PASSWORD, f"Local/{number}@x", roles=f"agent,{role.value}", password_cost=2**10
        )
    registry = partner_file.load(str(partners))
    token = registry.issue("acme", "k1", datetime.now(UTC) + timedelta(days=1))
    try:
        values = await _real_objects(server, database)
        yield Sweep(server, values, token)
    finally:
        await server.stop()
        await database.dispose()


async def _real_objects(server: RunningServer, database: Database) -> dict[str, str]:
    """A case with a task, a campaign and a message, made the ordinary way, so a route that
    looked its object up before checking the caller would show here."""
    values = {
        "provider": "generic",
        "linkedid": "1764550000.17",
        "language": "fa",
        "kind": supervisor_reports.KINDS[0],
        "customer_id": "1",
    }
    async with await logged_in(server, EVERY_ROLE) as every:
        body = {"type": "callback", "fields": {"reason": "claim"}, "phone": "09121234567"}
        async with every.post("/api/cases", json=body) as reply:
            assert reply.status == 201, await reply.text()
            values["number"] = (await reply.json())["tracking_number"]
        task = {"title": "call back", "control_at": "2026-12-02T10:00:00+03:30"}
        async with every.post(f"/api/cases/{values['number']}/tasks", json=task) as reply:
            assert reply.status == 201, await reply.text()
            values["task"] = str((await reply.json())["id"])
        async with every.get("/api/campaigns") as reply:
            kind = (await reply.json())["kinds"][0]["name"]
        async with every.post("/api/campaigns", json={"name": "sweep", "kind": kind}) as reply:
            assert reply.status in (200, 201), await reply.text()
            values["name"] = "sweep"
    message = await Outbox(database).put("sms", to="+989120000001", subject="x", body="x")
    values["message_id"] = str(message)
    return values


async def _send(
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    *,
    data: bytes | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, Any]:
    """One request; a server that hangs up on an oversized body counts as a 413."""
    sent = {"Content-Type": content_type, **(headers or {})} if data is not None else headers
    try:
        async with session.request(method, path, data=data, headers=sent) as reply:
            return reply.status, await reply.read(), reply.headers
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
        if data is not None and len(data) > 1_000_000:
            return 413, b"", {}
        raise


# --- 1. Without a session -----------------------------------------------------------------

SESSION_ROUTES = [r for r in ROUTES if not is_public_shell(r) and not credential_of(r)]
SESSION_ROUTES = [r for r in SESSION_ROUTES if r.id != "POST /api/logout"]


@pytest.mark.parametrize("route", SESSION_ROUTES, ids=lambda r: r.id)
async def test_nobody_without_a_session_gets_anything(sweep: Sweep, route: Route) -> None:
    async with client(sweep.server) as anonymous:
        status, body, _ = await _send(anonymous, route.method, sweep.path(route), data=b"{}")
    assert status in REFUSED, f"{route.id}: {status} {body[:300]!r}"


async def test_a_session_logged_out_opens_no_route_any_more(sweep: Sweep) -> None:
    """The token of a session that logged out (sent as a bearer token, as scripts do) is as
    good as none, on every route that needs a session."""
    async with await logged_in(sweep.server, EVERY_ROLE) as every:
        token = next(c.value for c in every.cookie_jar if c.key == COOKIE)
        async with every.post("/api/logout") as reply:
            assert reply.status == 200
    stale = {"Authorization": f"Bearer {token}"}
    async with client(sweep.server) as anonymous:
        for route in SESSION_ROUTES:
            path = sweep.path(route)
            status, _, _ = await _send(anonymous, route.method, path, data=b"{}", headers=stale)
            assert status in REFUSED, route.id


CREDENTIAL_ROUTES = [r for r in ROUTES if credential_of(r)]


@pytest.mark.parametrize("route", CREDENTIAL_ROUTES, ids=lambda r: r.id)
async def test_a_public_route_refuses_a_request_without_its_credential(
    sweep: Sweep, route: Route
) -> None:
    """Public routes check their own credential: the partner token, the SMS providers'
    shared secret, the core system's signature, the agent's password."""
    wrong = {
        "password": {"agent": EVERY_ROLE, "password": "not the password"},
        "partner_token": {"type": "callback", "summary": "x"},
        "sms_secret": {"id": "1", "from": "09121234567", "text": "hi"},
        "hmac": {"id": "e1", "type": "policy_issued"},
    }[credential_of(route) or ""]
    body = json.dumps(wrong).encode()
    async with client(sweep.server) as anonymous:
        status, answer, _ = await _send(anonymous, route.method, sweep.path(route), data=body)
        assert status in {401, 403, 404}, f"{route.id}: {status} {answer[:300]!r}"
        # A forged credential is refused the same way.
        forged = {
            "Authorization": "Bearer " + sweep.partner_token[:-4] + "AAAA",
            "X-Tamas-Secret": SMS_SECRET[:-1] + "?",
            "X-Tamas-Timestamp": str(int(time.time())),
            "X-Tamas-Signature": signature(CORE_SECRET + "?", str(int(time.time())), body),
        }
        path = sweep.path(route)
        status, answer, _ = await _send(anonymous, route.method, path, data=body, headers=forged)
        assert status in {401, 403, 404}, f"{route.id} forged: {status} {answer[:300]!r}"
        if credential_of(route) == "sms_secret":
            # Providers that can only be given a URL send the secret in the query.
            for query in ("?secret=", "?secret=" + SMS_SECRET[:-1], "?secret=" + SMS_SECRET * 2):
                status, answer, _ = await _send(anonymous, route.method, path + query, data=body)
                assert status == 401, f"{route.id}{query}: {status} {answer[:300]!r}"


async def test_logging_out_without_a_session_says_ok_and_nothing_else(sweep: Sweep) -> None:
    # Public: it ends the session it is sent with, if any.
    async with client(sweep.server) as anonymous:
        async with anonymous.post("/api/logout") as reply:
            assert (reply.status, await reply.json()) == (200, {"ok": True})


SHELLS = [r for r in ROUTES if is_public_shell(r)]


@pytest.mark.parametrize("route", SHELLS, ids=lambda r: r.id)
async def test_page_shells_and_static_files_are_public_and_hold_no_data(
    sweep: Sweep, route: Route
) -> None:
    """The HTML shells show a login form; static files are the pages' scripts and styles.
    Neither lets a path walk out of its folder."""
    async with client(sweep.server) as anonymous:
        if route.static_dir is not None:
            files = sorted(p for p in route.static_dir.rglob("*") if p.is_file())
            if files:
                name = files[0].relative_to(route.static_dir).as_posix()
                status, _, _ = await _send(anonymous, "GET", route.pattern + name)
                assert status == 200, route.pattern + name
            for walk in ("../app.py", "..%2f..%2fpyproject.toml", "%2e%2e/%2e%2e/pyproject.toml"):
                status, _, _ = await _send(anonymous, "GET", route.pattern + walk)
                assert status in {403, 404}, f"{route.pattern}{walk}: {status}"
        else:
            status, body, headers = await _send(anonymous, "GET", route.pattern)
            assert status == 200
            assert headers["Content-Type"].startswith("text/html")
            assert b"tracking_number" not in body and b"national_id" not in body


async def test_the_sweep_reads_the_routes_from_the_app(sweep: Sweep) -> None:
    assert {r.id for r in routes_of(sweep.server.app)} == {r.id for r in ROUTES}
    assert len(ROUTES) > 40  # the desktop's, and each feature's


async def test_a_route_added_later_is_swept_as_needing_a_session_and_a_role() -> None:
    app = the_app(Settings(), Database("sqlite+aiosqlite://"))

    async def leak(_request: web.Request) -> web.Response:
        return web.json_response({"national_id": "0012345679"})

    app.router.add_get("/api/new-feature/{item}", leak)
    (route,) = (r for r in routes_of(app) if r.pattern == "/api/new-feature/{item}")
    assert not is_public_shell(route) and credential_of(route) is None
    assert is_role_route(route) and role_of(route) is None  # so both sweeps fail on it


# --- 2. A plain agent ---------------------------------------------------------------------

ROLE_ROUTES = [r for r in ROUTES if is_role_route(r)]


@pytest.mark.parametrize("route", ROLE_ROUTES, ids=lambda r: r.id)
async def test_a_plain_agent_is_refused_every_route_of_a_role(sweep: Sweep, route: Route) -> None:
    async with await logged_in(sweep.server, PLAIN) as agent:
        status, body, _ = await _send(agent, route.method, sweep.path(route), data=b"{}")
    if route.method == "GET" and route.pattern in PAGES and status == 200:
        # Allowed: some role pages serve their shell to a user without the role, which then
        # says "forbidden" and offers a log out (tests/test_pages_navigation.py). The shell
        # must be the very one anybody gets: nothing of the role's data in it.
        async with client(sweep.server) as anonymous:
            _, anonymous_body, _ = await _send(anonymous, "GET", route.pattern)
        assert body == anonymous_body, route.id
        return
    assert status == 403, f"{route.id}: {status} {body[:300]!r}"


# Accounts holding the agent role and one other each.
ONE_ROLE = {role: f"91{index}" for index, role in enumerate(Role) if role is not Role.AGENT}


@pytest.mark.parametrize(
    "route",
    [r for r in ROLE_ROUTES if not (r.method == "GET" and r.pattern in PAGES)],
    ids=lambda r: r.id,
)
async def test_each_role_route_admits_its_own_role_and_no_other(sweep: Sweep, route: Route) -> None:
    """Least privilege: a campaign action is not open to a supervisor, a case to a messaging
    operator... (the one role each route needs is written down in ROLE_BY_PREFIX)."""
    needed = role_of(route)
    assert needed is not None, f"{route.id}: which role may use it? (ROLE_BY_PREFIX)"
    admitted = set()
    for role, number in ONE_ROLE.items():
        async with await logged_in(sweep.server, number) as user:
            status, _, _ = await _send(user, route.method, sweep.path(route), data=b"{}")
        assert status < 500, (route.id, role, status)
        if status != 403:
            admitted.add(role)
    assert admitted == {needed}, route.id


# --- 3. Junk bodies -----------------------------------------------------------------------

WRITES = [r for r in ROUTES if r.method in ("POST", "PUT") and r.id != "POST /api/logout"]
# Keys a handler may read, for a handler whose keys are read by a helper (not in its source).
KEYS = (
    "agent", "password", "name", "kind", "type", "state", "action", "note", "fields", "phone",
    "national_id", "summary", "value", "title", "control_at", "urgency", "team", "assignee",
    "satisfaction", "nps", "callid", "number", "to", "text", "events", "id", "dry_run",
    "language", "attachment", "reason", "mode", "customer", "disposition", "notes", "email",
)  # fmt: skip
WRONG_TYPES: list[Any] = [[1, 2], {"a": {"b": 1}}, 10**30, True, -1.5, None, "x" * 20_000]
NOT_AN_OBJECT: dict[str, tuple[str, bytes]] = {
    "not JSON": ("application/json", b"{not json"),
    "plain text": ("text/plain", b"hello"),
    "a form": ("application/x-www-form-urlencoded", b"agent=1&state=closed"),
    "a JSON array": ("application/json", b"[1, 2, 3]"),
    "a JSON string": ("application/json", b'"just a string"'),
    "bad UTF-8": ("application/json", b'{"note": "\xff\xfe"}'),
    "more than 1 MB": ("application/json", b'{"note": "' + b"x" * 1_100_000 + b'"}'),
}


# A "wrong" type that is the right one for every key the handler reads (allowed, with why).
RIGHT_TYPE = {
    # its one key, dry_run, is a boolean
    ("POST /api/campaigns/{name}/select", "bool for every key"),
}


def _junk(route: Route) -> dict[str, tuple[str, bytes]]:
    """Bodies that are not a JSON object, and objects whose every key the handler reads
    holds a wrong type (each type in turn)."""
    keys = sorted(body_keys(route)) or KEYS
    return {
        **NOT_AN_OBJECT,
        **{
            f"{type(wrong).__name__} for every key": (
                "application/json",
                json.dumps(dict.fromkeys(keys, wrong)).encode(),
            )
            for wrong in WRONG_TYPES
        },
    }


def _credentials(sweep: Sweep, route: Route, body: bytes) -> dict[str, str]:
    """What a public route checks, so the junk reaches its parser."""
    kind = credential_of(route)
    if kind == "partner_token":
        return {"Authorization": f"Bearer {sweep.partner_token}"}
    if kind == "sms_secret":
        return {"X-Tamas-Secret": SMS_SECRET}
    if kind == "hmac":
        stamp = str(int(time.time()))
        return {
            "X-Tamas-Timestamp": stamp,
            "X-Tamas-Signature": signature(CORE_SECRET, stamp, body),
        }
    return {}


@pytest.mark.parametrize("route", WRITES, ids=lambda r: r.id)
async def test_junk_bodies_are_refused_with_a_4xx(sweep: Sweep, route: Route) -> None:
    """Sent by a user holding every role (and the credential of a public route). A handler
    that reads no body (an action like "cancel this message") may act on its path alone; it
    must still never answer 5xx."""
    reads = reads_body(route) or credential_of(route) is not None
    # Wrong types must be refused where the handler's own source names the keys it reads;
    # where a helper reads them (or none are read) they need only never be a 5xx.
    typed = bool(body_keys(route))
    failures = []
    async with await logged_in(sweep.server, EVERY_ROLE) as every:
        for name, (content_type, body) in _junk(route).items():
            headers = _credentials(sweep, route, body)
            status, answer, _ = await _send(
                every,
                route.method,
                sweep.path(route),
                data=body,
                content_type=content_type,
                headers=headers,
            )
            refusal_due = reads and (typed or name in NOT_AN_OBJECT)
            if (route.id, name) in RIGHT_TYPE:
                refusal_due = False
            if status >= 500 or (refusal_due and status < 400):
                failures.append(f"{name}: {status} {answer[:200]!r}")
    assert not failures, f"{route.id}: " + "; ".join(failures)


# --- 4. Security headers ------------------------------------------------------------------

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def _html_files() -> list[str]:
    found = []
    for route in ROUTES:
        if route.static_dir is not None:
            found += [
                route.pattern + path.relative_to(route.static_dir).as_posix()
                for path in sorted(route.static_dir.rglob("*.html"))
            ]
    return found


@pytest.mark.parametrize("path", sorted(PAGES) + _html_files())
async def test_every_html_page_carries_the_security_headers(sweep: Sweep, path: str) -> None:
    for number in (None, EVERY_ROLE):
        session = await logged_in(sweep.server, number) if number else client(sweep.server)
        async with session:
            status, _, headers = await _send(session, "GET", path)
        assert status == 200, (path, number)
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        for name, value in HEADERS.items():
            assert headers[name] == value, (path, name)


# --- The same refusals on PostgreSQL ------------------------------------------------------


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_refusals_hold_on_postgresql(database: Database, tmp_path: Path) -> None:
    app = the_app(Settings(), database)
    runner, base = await listen(app)
    server = RunningServer(app, runner, base)
    try:
        await app[SERVER].directory.create_agent(
            PLAIN, PASSWORD, f"Local/{PLAIN}@x", password_cost=2**10
        )
        async with client(server) as anonymous:
            for route in SESSION_ROUTES:
                status, _, _ = await _send(anonymous, route.method, route.path(), data=b"{}")
                assert status in REFUSED, route.id
        async with await logged_in(server, PLAIN) as agent:
            for route in ROLE_ROUTES:
                if route.method == "GET" and route.pattern in PAGES:
                    continue  # the shells, swept above
                status, _, _ = await _send(agent, route.method, route.path(), data=b"{}")
                assert status == 403, route.id
    finally:
        await server.stop()
