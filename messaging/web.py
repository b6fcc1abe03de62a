"""The messaging pages and webhooks: SMS providers push the texts customers send and their
delivery reports here, `POST` (form or JSON) or `GET` (query), to
`/api/messaging/sms/{provider}/inbound` and `/api/messaging/sms/{provider}/reports`.

No agent is behind such a request, so no role is asked: the provider proves itself with the
shared secret `sms_webhook_secret` (header X-Tamas-Secret, or `secret=` in the query for
providers that can only be given a URL), compared in constant time; an empty secret turns
the webhooks off. The field names are the profile's `pushed` ones. Answered 200 once the text
is kept (a retried push is answered once: the inbox keeps each provider id once), 503 when
storage failed so the provider pushes again.

Mounted in the one aiohttp app by `popup_server.app` (see `AppParts`).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from integrations.messaging import reports
from integrations.messaging.outbox import Outbox
from integrations.messaging.sms_http import read_report, read_text
from integrations.messaging.sms_profiles import HttpProfile
from messaging import sms_channel
from messaging.text_service import TextService

if TYPE_CHECKING:
    from popup_server.app import AppParts
    from tamas.settings import Settings

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 64 * 1024
SETTINGS: web.AppKey[Settings] = web.AppKey("sms_webhook_settings")
PROFILES: web.AppKey[dict[str, HttpProfile]] = web.AppKey("sms_webhook_profiles")
SERVICE = web.AppKey("sms_text_service", TextService)
OUTBOX = web.AppKey("sms_webhook_outbox", Outbox)


def add_routes(app: web.Application, parts: AppParts) -> None:
    settings = parts.settings
    app[SETTINGS] = settings
    app[PROFILES] = sms_channel.profiles(settings)
    app[SERVICE] = sms_channel.text_service(settings, parts.database, parts.customer_file)
    app[OUTBOX] = Outbox(parts.database)
    for method in ("GET", "POST"):
        app.router.add_route(method, "/api/messaging/sms/{provider}/inbound", inbound_text)
        app.router.add_route(method, "/api/messaging/sms/{provider}/reports", delivery_report)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Refused(Exception):
    """A push turned away; `response` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.response = _error(status, message)


async def _pushed(request: web.Request, kind: str) -> tuple[HttpProfile, Mapping[str, Any]]:
    """The provider's profile and what it pushed; raises an HTTP error response."""
    secret = request.app[SETTINGS].sms_webhook_secret
    if not secret:
        raise Refused(404, "the SMS webhook is not configured (sms_webhook_secret)")
    given = request.headers.get("X-Tamas-Secret") or request.query.get("secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("SMS webhook: a request from %s without the secret", request.remote)
        raise Refused(401, "wrong or missing secret")
    profile = request.app[PROFILES].get(request.match_info["provider"])
    if profile is None or kind not in profile.pushed:
        raise Refused(404, "no such provider, or it does not push this")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Refused(413, f"at most {MAX_BODY_BYTES} bytes")
    data: Mapping[str, Any] = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise Refused(400, "the body is not JSON") from None
            if not isinstance(body, dict):
                raise Refused(400, "expected a JSON object")
            data = body
        else:
            data = dict(await request.post())
    return profile, data


async def inbound_text(request: web.Request) -> web.Response:
    try:
        profile, data = await _pushed(request, "text")
    except Refused as refused:
        return refused.response
    text = read_text(data, profile.pushed["text"])
    if text is None:
        return _error(400, "a text needs its id and sender")
    try:
        reply = await request.app[SERVICE].receive(
            profile.name, text.provider_id, text.from_number, text.text, text.to_number
        )
    except (SQLAlchemyError, OSError) as error:
        log.error("SMS webhook: storage unavailable: %s", type(error).__name__)
        return _error(503, "storage unavailable; push again later")
    return web.json_response({"status": "duplicate" if reply is None else "answered"})


async def delivery_report(request: web.Request) -> web.Response:
    try:
        profile, data = await _pushed(request, "report")
    except Refused as refused:
        return refused.response
    names = profile.pushed["report"]
    report = read_report(profile, data, names["id"], names["status"])
    if report is None:
        return _error(400, "a report needs a message id and a known status")
    try:
        matched = await reports.record(request.app[OUTBOX], profile.name, [report])
    except (SQLAlchemyError, OSError) as error:
        log.error("SMS webhook: storage unavailable: %s", type(error).__name__)
        return _error(503, "storage unavailable; push again later")
    return web.json_response({"matched": matched})
