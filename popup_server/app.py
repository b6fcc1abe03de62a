"""The popup server's aiohttp application: the agent desktop pages and API, the websocket
hub fed by the bus, and (in the one process that follows Asterisk) the call follower.

Several processes may serve desktops behind a load balancer when the bus is Redis: exactly
one of them follows AMI (`follow=True`) and publishes; all of them deliver to their desktops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from cases import web as cases_web
from customer_file.port import CustomerFile
from dialer import web as dialer_web
from integrations.database import Database
from messaging import core_webhook, operators
from messaging import web as messaging_web
from popup_server.agents import AgentDirectory
from popup_server.audit import AuditLog
from popup_server.auth import (
    DIRECTORY,
    LIMITER,
    SESSION_ENDED,
    TRUSTED_PROXIES,
    login,
    logout,
    make_login_limiter,
    me,
    trusted_proxies,
)
from popup_server.desktop import DesktopRoutes
from popup_server.follower import CallFollower
from popup_server.websocket import DesktopHub
from supervisors import web as supervisors_web
from tamas.asterisk.ami import AmiClient, AmiError
from tamas.bus import Bus
from tamas.settings import Settings

# Pages only load our own scripts and styles: customer data can never become script, even
# if some code path forgot to treat it as text.
log = logging.getLogger(__name__)

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


@dataclass
class PopupServer:
    """The parts of one popup server process, for tests and the benchmark to reach."""

    hub: DesktopHub
    directory: AgentDirectory
    follower: CallFollower | None


SERVER = web.AppKey("popup_server", PopupServer)


@dataclass(frozen=True)
class AppParts:
    """What a feature package's pages are given when mounted (`<package>/web.py`'s
    `add_routes(app, parts)`): the one settings object, database, bus, customer file, AMI
    client and audit log of this process. Each page checks its role with
    `popup_server.auth.require_role`."""

    settings: Settings
    database: Database
    bus: Bus
    customer_file: CustomerFile
    ami: AmiClient | None
    audit: AuditLog


# Each domain package mounts its own pages and API in the one app: the dialer's console, the
# supervisors' wallboard and reports, the messaging operators' page and the core system's
# events webhook, the cases.
FEATURES = (dialer_web, supervisors_web, messaging_web, operators, core_webhook, cases_web)


def make_app(
    settings: Settings,
    *,
    database: Database,
    bus: Bus,
    customer_file: CustomerFile,
    ami: AmiClient | None = None,
    follow: bool = True,
) -> web.Application:
    """The application. `ami` (not yet connected) is used for call control and, with
    `follow`, to follow calls; the app connects it on startup and closes it on cleanup."""
    app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    directory = AgentDirectory(database, settings.agent_session_ttl_s)
    hub = DesktopHub(bus, directory)
    follower = (
        CallFollower(bus, customer_file, database, directory, settings.default_region)
        if follow
        else None
    )
    app[DIRECTORY] = directory
    app[SESSION_ENDED] = hub.session_ended
    limiter = make_login_limiter(settings)
    app[LIMITER] = limiter
    app[TRUSTED_PROXIES] = trusted_proxies(settings)
    app[SERVER] = PopupServer(hub=hub, directory=directory, follower=follower)

    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_get("/ws", hub.handle)
    audit = AuditLog(database)
    DesktopRoutes(
        hub,
        customer_file,
        ami,
        settings,
        audit,
        note_transfer=follower.note_transfer if follower else None,
    ).add_to(app)
    parts = AppParts(settings, database, bus, customer_file, ami, audit)
    for feature in FEATURES:
        feature.add_routes(app, parts)

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await bus.start()
        if follower is not None:
            await follower.start()
            if ami is not None:
                follower.attach(ami)
        retry = asyncio.create_task(_connect_ami(ami)) if ami is not None else None
        yield
        if retry is not None:
            retry.cancel()
        if ami is not None:
            await ami.close()
        if follower is not None:
            await follower.close()
        hub.close()
        await bus.close()
        await limiter.close()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(lambda _app: hub.close_all())
    return app


async def _connect_ami(ami: AmiClient) -> None:
    """Log in to AMI; while Asterisk is down the desktops still work, and we keep trying
    (after the first login the AMI client reconnects by itself)."""
    pause_s = 1.0
    while True:
        try:
            await ami.connect()
            return
        except (OSError, AmiError, TimeoutError) as error:
            log.warning("popup server: AMI not reachable (%s); retrying in %.0f s", error, pause_s)
            await asyncio.sleep(pause_s)
            pause_s = min(pause_s * 2, 30.0)
