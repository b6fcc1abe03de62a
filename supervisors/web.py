"""The supervisors' pages and API in the one aiohttp app (mounted by `popup_server.app`):
the wallboard page, `GET /api/wallboard` (docs/wallboard.schema.json), the call-back action
on an abandoned caller, and the actions on agents and calls. Every route needs the
supervisor role; every action is audited.

The process that follows AMI (the one with the call follower) runs the `Wallboard` beside
the follower, on the same AMI connection; other processes keep a `WallboardMirror` from the
bus, so any of them answers `GET /api/wallboard`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from customer_file.port import CustomerFileError
from integrations.messaging.outbox import Outbox, OutboxLimits
from ivr.hours import default_hours
from popup_server.auth import read_json, require_role
from popup_server.roles import Role
from supervisors import reports_web
from supervisors.actions import ActionDone, ActionRefused, SupervisorActions
from supervisors.alert_notices import AlertFirings, AlertWatch
from supervisors.alerts import load_rules
from supervisors.metrics import thresholds_from
from supervisors.today import stored_today
from supervisors.wallboard import TodaySource, Wallboard, WallboardMirror

if TYPE_CHECKING:
    from popup_server.app import AppParts

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


class SupervisorPages:
    def __init__(
        self, parts: AppParts, wallboard: Wallboard | None, mirror: WallboardMirror | None
    ) -> None:
        self.parts = parts
        self.wallboard = wallboard
        self.mirror = mirror
        live = wallboard.live if wallboard is not None else None
        self.actions = SupervisorActions(parts.ami, live, parts.audit) if live else None

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/supervisors/wallboard", self.page)
        app.router.add_get("/api/wallboard", self.board)
        app.router.add_post("/api/wallboard/callback", self.call_back)
        for name in ("pause", "unpause", "logout", "spy", "move"):
            app.router.add_post(f"/api/supervisors/{name}", self.action)
        app.router.add_static("/static/supervisors/", STATIC, append_version=True)

    async def page(self, _request: web.Request) -> web.FileResponse:
        # The page itself holds no data; its script logs in and asks the API.
        return web.FileResponse(STATIC / "wallboard.html")

    def state(self) -> dict[str, Any]:
        if self.wallboard is not None:
            return self.wallboard.state()
        assert self.mirror is not None
        return self.mirror.state()

    async def board(self, request: web.Request) -> web.Response:
        await require_role(request, Role.SUPERVISOR)
        return web.json_response(self.state())

    async def call_back(self, request: web.Request) -> web.Response:
        """A callback task for an abandoned caller of today's list (one open per number)."""
        supervisor = await require_role(request, Role.SUPERVISOR)
        body = await read_json(request)
        callid = str(body.get("callid") or "")
        caller = next((c for c in self.state()["abandoned"] if c.get("callid") == callid), None)
        if caller is None or not caller.get("caller_number"):
            return _error(404, "no such caller in today's abandoned list")
        number = str(caller["caller_number"])
        await self.parts.audit.record(
            supervisor.number, "sv_callback", target=number, linkedid=callid
        )
        try:
            tracking = await self.parts.customer_file.create_callback_task(
                "callback",
                number,
                customer_id=caller.get("customer_id"),
                note=f"abandoned in {caller.get('queue', '')} after {caller.get('wait_s', 0)} s",
                linkedid=callid,
                # Opened by a supervisor on the wallboard, not by the caller in the menus.
                channel="desktop",
            )
        except CustomerFileError as error:
            return _error(409, str(error))
        return web.json_response({"ok": True, "tracking_number": tracking})

    async def action(self, request: web.Request) -> web.Response:
        supervisor = await require_role(request, Role.SUPERVISOR)
        body = await read_json(request)
        actions = self.actions
        if actions is None:
            return _error(503, "this server does not follow Asterisk; use the one that does")
        name = request.path.rsplit("/", 1)[-1]
        agent = str(body.get("agent") or "")
        calls: dict[str, Callable[[], Awaitable[ActionDone]]] = {
            "pause": lambda: actions.pause(supervisor, agent, str(body.get("reason") or "")),
            "unpause": lambda: actions.unpause(supervisor, agent),
            "logout": lambda: actions.log_out(supervisor, agent),
            "spy": lambda: actions.spy(supervisor, agent, str(body.get("mode") or "")),
            "move": lambda: actions.move(
                supervisor, str(body.get("uniqueid") or ""), str(body.get("queue") or "")
            ),
        }
        try:
            done = await calls[name]()
        except ActionRefused as refused:
            return _error(refused.status, str(refused))
        return web.json_response({"ok": True, "action": done.what, **done.detail})


PAGES = web.AppKey("supervisor_pages", SupervisorPages)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def today_source(parts: AppParts) -> TodaySource:
    """Today's figures from the event store, by the reports' own code, thresholds and clock."""
    return stored_today(
        parts.database,
        parts.customer_file,
        thresholds_from(parts.settings),
        ZoneInfo(parts.settings.report_time_zone),
    )


def add_routes(app: web.Application, parts: AppParts) -> None:
    # Imported here: popup_server.app imports this module while it is being defined.
    from popup_server.app import SERVER

    following = app[SERVER].follower is not None
    wallboard = Wallboard(parts.bus, today=today_source(parts)) if following else None
    if wallboard is not None:
        # The rules are read (and checked) at start: a mistake stops the server with its line.
        wallboard.on_flush.append(
            AlertWatch(
                load_rules(),
                AlertFirings(parts.database),
                Outbox(parts.database, OutboxLimits.from_settings(parts.settings)),
                default_hours().is_open,
            )
        )
    mirror = None if following else WallboardMirror()
    pages = SupervisorPages(parts, wallboard, mirror)
    pages.add_to(app)
    reports_web.add_routes(app, parts)
    app[PAGES] = pages

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        unsubscribe = parts.bus.subscribe(mirror.receive) if mirror is not None else None
        if wallboard is not None:
            if parts.ami is not None:
                # Beside the call follower, on the app's one AMI connection (registered
                # before the app logs in, so the first login resyncs the board too).
                wallboard.attach(parts.ami)
            await wallboard.start()
        yield
        if wallboard is not None:
            await wallboard.close()
        if unsubscribe is not None:
            unsubscribe()

    app.cleanup_ctx.append(lifecycle)
