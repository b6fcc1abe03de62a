"""The campaign operators' console: campaigns made from the kinds, targets imported (with the
validation report first) or selected by the kind's rule, start/pause/resume/stop, live
progress polled every second, results exported, the SMS fallback sent.

Mounted in the one aiohttp app by `popup_server.app` (see `AppParts`). Every route but the
page's login form is for the campaign-operator role alone (`require_role`), and every action
that changes a campaign, or takes its results away, is written to the audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web
from sqlalchemy import func, literal_column, select

from dialer import control, exports, fallback, imports, kinds, selection
from dialer.attempts import Attempts
from dialer.campaigns import CampaignExists, Campaigns, UnknownCampaign
from dialer.status import campaign_status
from dialer.tables import THIRTY_DAYS_S, AttemptRow, CampaignRow
from integrations.messaging.outbox import Outbox, OutboxLimits
from interactions.records import InteractionRecords
from popup_server.auth import current_agent, read_json, require_role
from popup_server.models import Agent, AgentSession
from popup_server.roles import Role
from tamas.errors import CommandError

if TYPE_CHECKING:
    from popup_server.app import AppParts

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# An upload bigger than this is not a target list an operator would check row by row.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# The chart's span and the moving window calls/s is measured over.
TIMELINE_MINUTES = 30
RATE_WINDOW_S = 60
STATE_ACTIONS = ("start", "pause", "resume", "stop")
UNTYPABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
WINDOWS_S = {"30d": THIRTY_DAYS_S, "24h": 24 * 3600}


def _error(status: type[web.HTTPException], message: str, **extra: Any) -> web.HTTPException:
    """An HTTP error with a JSON body: the console translates it by status and `field`."""
    return status(text=json.dumps({"error": message, **extra}), content_type="application/json")


def _campaign_name(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 64:
        raise _error(web.HTTPBadRequest, "a name of 1 to 64 characters", field="name")
    name = value.strip()
    # A "/" would put the campaign out of reach of its own /api/campaigns/NAME/... routes.
    # Format characters are typed by no one, but the zero-width non-joiner is Persian spelling.
    untypable = [c for c in name if unicodedata.category(c) in UNTYPABLE and c != "\u200c"]
    if "/" in name or untypable:
        raise _error(web.HTTPBadRequest, "the name has characters no one types", field="name")
    return name


class ConsoleRoutes:
    def __init__(self, parts: AppParts, kinds_path: Path = kinds.DEFAULT_PATH) -> None:
        self.parts = parts
        self.database = parts.database
        self.campaigns = Campaigns(parts.database)
        self.attempts = Attempts(parts.database, InteractionRecords(parts.database))
        self.kinds_path = kinds_path

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/campaigns", self.page)
        app.router.add_get("/api/campaigns", self.list_campaigns)
        app.router.add_post("/api/campaigns", self.create)
        app.router.add_get("/api/campaigns/{name}/progress", self.progress)
        app.router.add_post("/api/campaigns/{name}/import", self.import_file)
        app.router.add_post("/api/campaigns/{name}/select", self.select)
        app.router.add_post("/api/campaigns/{name}/state", self.change_state)
        app.router.add_get("/api/campaigns/{name}/export", self.export)
        app.router.add_post("/api/campaigns/{name}/sms-fallback", self.sms_fallback)
        app.router.add_static("/static/dialer/", STATIC, append_version=True)

    # ------------------------------------------------------------------ helpers

    def _kinds(self) -> dict[str, kinds.CampaignKind]:
        try:
            return kinds.load(self.kinds_path)
        except kinds.KindError as error:
            log.error("campaign console: %s", error)
            raise _error(web.HTTPServiceUnavailable, str(error)) from None

    async def _named(self, request: web.Request) -> Any:
        try:
            return await self.campaigns.named(request.match_info["name"])
        except UnknownCampaign as error:
            raise _error(web.HTTPNotFound, str(error)) from None

    async def _audit(self, operator: str, action: str, campaign: str) -> None:
        await self.parts.audit.record(operator, action, target=campaign)

    # ------------------------------------------------------------------ pages and reads

    async def page(self, request: web.Request) -> web.StreamResponse:
        # Not logged in: the page shows its login form. Logged in without the role: 403.
        if await current_agent(request) is not None:
            await require_role(request, Role.CAMPAIGN_OPERATOR)
        return web.FileResponse(STATIC / "console.html")

    async def list_campaigns(self, request: web.Request) -> web.Response:
        await require_role(request, Role.CAMPAIGN_OPERATOR)
        catalogue = self._kinds()
        now = datetime.now(UTC)
        async with self.database.session() as session:
            names = list(await session.scalars(select(CampaignRow.name).order_by(CampaignRow.id)))
        listed = [await campaign_status(self.campaigns, self.attempts, name, now) for name in names]
        return web.json_response(
            {
                "campaigns": listed,
                "kinds": [
                    {
                        "name": kind.name,
                        "mode": kind.mode.value,
                        "rule": kind.target.rule,
                        "fields": list(kind.fields),
                        "sms_fallback": kind.sms_fallback is not None,
                    }
                    for kind in catalogue.values()
                ],
            }
        )

    async def progress(self, request: web.Request) -> web.Response:
        await require_role(request, Role.CAMPAIGN_OPERATOR)
        campaign = await self._named(request)
        now = datetime.now(UTC)
        status = await campaign_status(self.campaigns, self.attempts, campaign.name, now)
        settled = status["done"] + status["skipped"]
        status["progress"] = round(settled / status["targets"], 4) if status["targets"] else 0.0
        status["calls_per_s"] = round(await self._recent_calls(campaign.id, now) / RATE_WINDOW_S, 2)
        status["agents_logged_in"] = await self._agents_logged_in(now)
        status["timeline"] = await self._timeline(campaign.id, now)
        status["sms_fallback"] = self._kinds().get(campaign.kind) is not None and (
            self._kinds()[campaign.kind].sms_fallback is not None
        )
        return web.json_response(status)

    async def _recent_calls(self, campaign_id: int, now: datetime) -> int:
        async with self.database.session() as session:
            return int(
                await session.scalar(
                    select(func.count()).where(
                        AttemptRow.campaign_id == campaign_id,
                        AttemptRow.created_at >= now - timedelta(seconds=RATE_WINDOW_S),
                    )
                )
                or 0
            )

    async def _agents_logged_in(self, now: datetime) -> int:
        async with self.database.session() as session:
            return int(
                await session.scalar(
                    select(func.count(func.distinct(AgentSession.agent_id)))
                    .join(Agent, Agent.id == AgentSession.agent_id)
                    .where(
                        AgentSession.expires_at > now,
                        Agent.active.is_(True),
                        # Roles are stored as "agent,supervisor": the agent role among them.
                        ("," + Agent.roles + ",").contains(",agent,"),
                    )
                )
                or 0
            )

    async def _timeline(self, campaign_id: int, now: datetime) -> list[dict[str, Any]]:
        """Attempts ended per minute and outcome over the last TIMELINE_MINUTES minutes."""
        if self.database.engine.dialect.name == "postgresql":
            # Constants, not parameters: GROUP BY must repeat the very same expression.
            utc = func.timezone(literal_column("'UTC'"), AttemptRow.ended_at)
            minute = func.to_char(
                func.date_trunc(literal_column("'minute'"), utc),
                literal_column("'YYYY-MM-DD\"T\"HH24:MI'"),
            )
        else:
            minute = func.strftime("%Y-%m-%dT%H:%M", AttemptRow.ended_at)
        since = now - timedelta(minutes=TIMELINE_MINUTES)
        async with self.database.session() as session:
            rows = await session.execute(
                select(minute.label("minute"), AttemptRow.outcome, func.count())
                .where(AttemptRow.campaign_id == campaign_id, AttemptRow.ended_at >= since)
                .group_by(minute, AttemptRow.outcome)
            )
            counted = [(m, outcome, int(n)) for m, outcome, n in rows]
        by_minute: dict[str, dict[str, int]] = {}
        for m, outcome, n in counted:
            by_minute.setdefault(f"{m}:00Z", {})[outcome or "failed"] = n
        return [{"minute": m, "outcomes": by_minute[m]} for m in sorted(by_minute)]

    # ------------------------------------------------------------------ actions

    async def create(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.CAMPAIGN_OPERATOR)
        body = await read_json(request)
        name = _campaign_name(body.get("name"))
        catalogue = self._kinds()
        kind = catalogue.get(body.get("kind"))  # type: ignore[arg-type]
        if kind is None:
            raise _error(web.HTTPBadRequest, "not a campaign kind", field="kind")
        target = body.get("abandon_target", 0.03)
        if isinstance(target, bool) or not isinstance(target, int | float) or not 0 <= target < 1:
            raise _error(web.HTTPBadRequest, "a share in [0, 1)", field="abandon_target")
        window = body.get("abandon_window", "30d")
        if window not in WINDOWS_S:
            raise _error(web.HTTPBadRequest, "30d or 24h", field="abandon_window")
        try:
            campaign = await self.campaigns.create(
                name, kind, datetime.now(UTC), float(target), WINDOWS_S[window]
            )
        except CampaignExists as error:
            raise _error(web.HTTPConflict, str(error), field="name") from None
        await self._audit(operator.number, "campaign_create", campaign.name)
        return web.json_response({"name": campaign.name, "state": campaign.state}, status=201)

    async def import_file(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.CAMPAIGN_OPERATOR)
        # The file comes as the raw body: a cross-site form cannot send this type (CSRF).
        if request.content_type != "application/octet-stream":
            raise _error(web.HTTPUnsupportedMediaType, "send the file as application/octet-stream")
        campaign = await self._named(request)
        data = bytearray()
        async for chunk in request.content.iter_chunked(65536):
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                raise _error(web.HTTPRequestEntityTooLarge, "the file is over 20 MB")
        filename = unquote(request.headers.get("X-File-Name", "targets.csv"))[:200]
        try:
            # Parsed in a worker thread: a large file is seconds of CPU the desktops' event
            # loop in this process must not wait for.
            report = await asyncio.to_thread(imports.read, bytes(data), filename)
        except imports.UnreadableFile as error:
            raise _error(web.HTTPBadRequest, str(error), field="file") from None
        dry_run = request.query.get("dry_run") == "1"
        added = known = 0
        if not dry_run:
            if campaign.state not in selection.OPEN_STATES:
                raise _error(web.HTTPConflict, f"the campaign is {campaign.state}")
            added, known = await self.campaigns.add_targets(campaign.id, report.targets)
            await self._audit(operator.number, "campaign_import", campaign.name)
        return web.json_response(
            {**report.as_dict(), "added": added, "already_in_campaign": known, "dry_run": dry_run}
        )

    async def select(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.CAMPAIGN_OPERATOR)
        body = await read_json(request)
        campaign = await self._named(request)
        kind = self._kinds().get(campaign.kind)
        if kind is None:
            raise _error(web.HTTPConflict, f"kind {campaign.kind!r} is no longer in the kinds file")
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            # "dry_run": 1 or "yes" must not run a real selection the operator did not mean.
            raise _error(web.HTTPBadRequest, "true or false", field="dry_run")
        try:
            report = await selection.select_targets(
                self.database, campaign, kind, datetime.now(UTC), dry_run=dry_run
            )
        except selection.SelectionError as error:
            raise _error(web.HTTPConflict, str(error), reason="selection") from None
        if not dry_run:
            await self._audit(operator.number, "campaign_select", campaign.name)
        return web.json_response(report.as_dict())

    async def change_state(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.CAMPAIGN_OPERATOR)
        body = await read_json(request)
        action = body.get("action")
        if action not in STATE_ACTIONS:
            raise _error(web.HTTPBadRequest, "start, pause, resume or stop", field="action")
        campaign = await self._named(request)
        try:
            changed = await control.change_state(
                self.database, campaign.name, str(action), datetime.now(UTC)
            )
        except CommandError as error:
            raise _error(web.HTTPConflict, str(error), reason="state") from None
        await self._audit(operator.number, f"campaign_{action}", campaign.name)
        return web.json_response({"name": changed.name, "state": changed.state})

    async def export(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.CAMPAIGN_OPERATOR)
        campaign = await self._named(request)
        format = request.query.get("format", "csv")
        if format not in exports.FORMATS:
            raise _error(web.HTTPBadRequest, "csv or xlsx", field="format")
        data = await exports.export_campaign(self.database, campaign, format)
        # The results carry customers' names and numbers: who took them is kept.
        await self._audit(operator.number, "campaign_export", campaign.name)
        ascii_name = "".join(c if c.isascii() and c.isalnum() else "_" for c in campaign.name)
        return web.Response(
            body=data,
            content_type=exports.CONTENT_TYPES[format].split(";")[0],
            charset="utf-8" if format == "csv" else None,
            headers={"Content-Disposition": f'attachment; filename="{ascii_name}.{format}"'},
        )

    async def sms_fallback(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.CAMPAIGN_OPERATOR)
        await read_json(request)
        campaign = await self._named(request)
        kind = self._kinds().get(campaign.kind)
        if kind is None or kind.sms_fallback is None:
            raise _error(web.HTTPConflict, "this kind has no SMS fallback", reason="no_fallback")
        outbox = Outbox(self.database, OutboxLimits.from_settings(self.parts.settings))
        sent = await fallback.send_fallbacks(
            self.database, outbox, campaign, kind, datetime.now(UTC)
        )
        await self._audit(operator.number, "campaign_sms", campaign.name)
        return web.json_response(sent.as_dict())


def add_routes(app: web.Application, parts: AppParts) -> None:
    ConsoleRoutes(parts).add_to(app)
