"""`POST /api/core/events`: the core insurance system tells Tamas what happened (a policy
issued, a claim settled...), and Tamas sends the notice each event triggers, once.

Only from the addresses in `core_events_allow`, signed with HMAC-SHA256 over
"timestamp.body" in X-Tamas-Signature (secret `core_events_secret`; empty turns the endpoint
off), within the replay window. The body is one event or {"events": [...]}; every event is
checked before any is sent, so a bad batch sends nothing and can be corrected and sent again.
Events already seen answer `duplicate`: the core system may retry without fear."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from integrations.messaging.outbox import Outbox, OutboxLimits
from messaging import notice_kinds
from messaging.core_events import BadEvent, BadSignature, check_signature, read_event
from messaging.notifier import Notifier
from popup_server.auth import Network, in_networks, networks

if TYPE_CHECKING:
    from popup_server.app import AppParts
    from tamas.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS = 500
NOTIFIER = web.AppKey("core_events_notifier", Notifier)
SETTINGS: web.AppKey[Settings] = web.AppKey("core_events_settings")
ALLOWED: web.AppKey[tuple[Network, ...]] = web.AppKey("core_events_allowed")


def make_notifier(parts: AppParts) -> Notifier:
    settings = parts.settings
    return Notifier(
        parts.database,
        parts.customer_file,
        Outbox(parts.database, OutboxLimits.from_settings(settings)),
        notice_kinds.load(),
        insurer_names(settings),
    )


def insurer_names(settings: Settings) -> dict[str, str]:
    return {
        "fa": settings.insurer_name_fa,
        "en": settings.insurer_name_en,
        "ru": settings.insurer_name_ru,
    }


def add_routes(app: web.Application, parts: AppParts) -> None:
    app[NOTIFIER] = make_notifier(parts)
    app[SETTINGS] = parts.settings
    app[ALLOWED] = networks("core_events_allow", parts.settings.core_events_allow)
    app.router.add_post("/api/core/events", receive_events)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


async def receive_events(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.core_events_secret:
        return _error(404, "the core events endpoint is not configured")
    allowed = request.app[ALLOWED]
    if not in_networks(request.remote or "", allowed):
        log.warning("core events: refused a request from %s (not allowed)", request.remote)
        return _error(403, "this address may not send core events")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _error(413, f"at most {MAX_BODY_BYTES} bytes")
    body = await request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"at most {MAX_BODY_BYTES} bytes")
    try:
        check_signature(
            settings.core_events_secret,
            request.headers.get("X-Tamas-Timestamp", ""),
            request.headers.get("X-Tamas-Signature", ""),
            body,
            datetime.now(UTC),
        )
    except BadSignature as error:
        log.warning("core events: refused a request from %s: %s", request.remote, error)
        return _error(401, str(error))
    try:
        document = json.loads(body)
    except ValueError:
        return _error(400, "the body is not JSON")
    raw_events = document.get("events") if isinstance(document, dict) else None
    if raw_events is None:
        raw_events = [document]
    if not isinstance(raw_events, list) or not 0 < len(raw_events) <= MAX_EVENTS:
        return _error(400, f"events: a list of 1 to {MAX_EVENTS} events")
    problems = []
    events = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(read_event(raw))
        except BadEvent as error:
            problems.append({"index": index, "error": str(error)})
    if problems:
        return _error(400, "some events are not valid; none was sent", problems=problems)
    notifier = request.app[NOTIFIER]
    results = []
    try:
        for index, event in enumerate(events):
            try:
                result = await notifier.on_event(event)
            except BadEvent as error:
                results.append({"id": event.id, "status": "rejected", "error": str(error)})
                problems.append({"index": index, "error": str(error)})
                continue
            results.append(
                {
                    "id": event.id,
                    "status": result.status,
                    **({"reason": result.reason} if result.reason else {}),
                }
            )
    except (SQLAlchemyError, OSError) as error:
        # The events already handled are recorded; the core system retries the batch and
        # those answer `duplicate`.
        log.error("core events: database unavailable: %s", error)
        return _error(503, "storage unavailable; retry later", results=results)
    return web.json_response({"results": results}, status=422 if problems else 200)
