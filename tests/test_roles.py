"""Roles on agents' accounts: only known roles are stored, and a page of a role refuses a user
without it (403) and anyone not logged in (401)."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from integrations.database import Database
from popup_server.agents import AgentDirectory, AgentError
from popup_server.auth import COOKIE, DIRECTORY, require_role
from popup_server.roles import Role, parse_roles


def test_roles_are_read_from_a_comma_separated_list() -> None:
    assert parse_roles("agent, supervisor,,") == {Role.AGENT, Role.SUPERVISOR}


def test_an_unknown_role_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="'superuser'"):
        parse_roles("agent,superuser")


async def test_an_account_with_an_unknown_role_is_not_saved(database: Database) -> None:
    directory = AgentDirectory(database, 3600)
    with pytest.raises(AgentError, match="roles"):
        await directory.create_agent("150", "password-150", "Local/150@x", roles="root")


async def test_a_page_of_a_role_refuses_users_without_it(database: Database) -> None:
    directory = AgentDirectory(database, 3600)
    await directory.create_agent("150", "password-150", "Local/150@x", password_cost=2)
    await directory.create_agent(
        "151", "password-151", "Local/151@x", roles="agent,supervisor", password_cost=2
    )

    async def wallboard(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.SUPERVISOR)
        return web.json_response({"supervisor": agent.number})

    app = web.Application()
    app[DIRECTORY] = directory
    app.router.add_post("/api/login", _login_without_limits)
    app.router.add_get("/wallboard", wallboard)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/wallboard")).status == 401
        await client.post("/api/login", json={"agent": "150", "password": "password-150"})
        assert (await client.get("/wallboard")).status == 403
        await client.post("/api/login", json={"agent": "151", "password": "password-151"})
        response = await client.get("/wallboard")
        assert response.status == 200
        assert await response.json() == {"supervisor": "151"}


async def _login_without_limits(request: web.Request) -> web.Response:

    body = await request.json()
    new = await request.app[DIRECTORY].log_in(body["agent"], body["password"])
    assert new is not None
    response = web.json_response({})
    response.set_cookie(COOKIE, new.token)
    return response
