"""The agent desktop's HTTP routes: the page, the agent's calls, callbacks, the customer
search and registration, dispositions, and call control (transfer, hang-up, click-to-call)
through AMI. Every route acts for the logged-in agent and only on that agent's own calls.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from customer_file.identifiers import InvalidIdentifier
from customer_file.port import CustomerFile, CustomerFileError, DuplicateCustomer
from customer_file.views import CustomerRegistration, as_json
from popup_server.audit import AuditLog, RateLimit
from popup_server.auth import read_json, require_agent
from popup_server.dialling import DialPolicy
from popup_server.websocket import DesktopHub
from tamas.asterisk import variables as channel_variables
from tamas.asterisk.ami import AmiClient, AmiError
from tamas.languages import LANGUAGES
from tamas.settings import Settings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
DISPOSITIONS = (
    "resolved",
    "follow_up",
    "callback_scheduled",
    "complaint_registered",
    "sale",
    "wrong_number",
    "other",
)
MAX_NOTES = 4000
# A search narrower than this names too many customers to be a search (a browse).
MIN_SEARCH = 3
# Customer ids are 32-bit in our tables; a larger one is a mistake, not a customer.
MAX_CUSTOMER_ID = 2**31 - 1
# Unassigned, private-use, surrogate and control characters are typed by no one; ZWNJ is
# part of Persian names (the other format characters are not).
_UNTYPABLE = frozenset({"Cn", "Co", "Cs", "Cc", "Cf"})
_ZWNJ = "\u200c"


class DesktopRoutes:
    def __init__(
        self,
        hub: DesktopHub,
        customer_file: CustomerFile,
        ami: AmiClient | None,
        settings: Settings,
        audit: AuditLog,
        note_transfer: Any = None,
    ) -> None:
        self.hub = hub
        self.customer_file = customer_file
        self.ami = ami
        self.desktop_context = settings.desktop_context
        self.note_transfer = note_transfer
        self.audit = audit
        self.dial_policy = DialPolicy(settings.desktop_dial_patterns, settings.default_region)
        self.dials = RateLimit(("originate", "transfer"), settings.agent_dials_per_hour)
        self.searches = RateLimit(
            ("search", "file_read"), settings.agent_searches_per_hour, reasons=("search",)
        )

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_get("/api/recent-calls", self.recent_calls)
        app.router.add_get("/api/callbacks", self.callbacks)
        app.router.add_get("/api/customers", self.search)
        app.router.add_post("/api/customers", self.register)
        app.router.add_get("/api/customers/{customer_id:\\d+}", self.customer)
        app.router.add_post("/api/calls/{linkedid}/disposition", self.disposition)
        app.router.add_post("/api/calls/{linkedid}/hangup", self.hangup)
        app.router.add_post("/api/calls/{linkedid}/transfer", self.transfer)
        app.router.add_post("/api/originate", self.originate)
        app.router.add_static("/static/", STATIC, append_version=True)

    async def index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def recent_calls(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        calls = await self.customer_file.interactions_for_agent(agent.number, limit=20)
        return web.json_response(as_json(calls))

    async def callbacks(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        tasks = await self.customer_file.callback_tasks_for_agent(agent.number)
        return web.json_response(as_json(tasks))

    async def search(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        text = request.query.get("q", "").strip()[:100]
        if len(text) < MIN_SEARCH:
            return _error(400, f"q: type at least {MIN_SEARCH} characters", field="q")
        odd = next((ch for ch in text if _untypable(ch)), None)
        if odd is not None:
            return _error(400, f"q: character U+{ord(odd):04X} cannot be searched for", "q")
        if not await self.audit.record(agent.number, "search", limit=self.searches):
            return _rate_limited("searches")
        try:
            found = await self.customer_file.search_customers(text, limit=20)
        except InvalidIdentifier as error:
            return _error(400, str(error), field=error_field(error))
        return web.json_response(as_json(found))

    async def customer(self, request: web.Request) -> web.Response:
        """The whole file of a customer the agent picked from the search."""
        agent = await require_agent(request)
        customer_id = int(request.match_info["customer_id"])
        if customer_id > MAX_CUSTOMER_ID:
            return _error(400, "no customer has so large an id")
        allowed = await self.audit.record(
            agent.number,
            "file_read",
            reason="search",
            customer_id=customer_id,
            limit=self.searches,
        )
        if not allowed:
            return _rate_limited("searches")
        view = await self.customer_file.customer_file(customer_id)
        if view is None:
            return _error(404, "no such customer")
        return web.json_response(as_json(view))

    async def register(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        body = await read_json(request)
        try:
            registration = _registration(body)
            summary = await self.customer_file.register_customer(registration)
        except InvalidIdentifier as error:
            return _error(400, str(error), field=error_field(error))
        except DuplicateCustomer as error:
            return _error(409, str(error), field=error.field)
        except CustomerFileError as error:
            return _error(400, str(error))
        await self.audit.record(
            agent.number, "file_read", reason="registration", customer_id=summary.id
        )
        view = await self.customer_file.customer_file(summary.id)
        return web.json_response(as_json(view), status=201)

    async def disposition(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        linkedid = request.match_info["linkedid"][:64]
        body = await read_json(request)
        disposition, notes = body.get("disposition"), body.get("notes") or None
        if disposition not in DISPOSITIONS:
            return _error(400, f"disposition: one of {', '.join(DISPOSITIONS)}", "disposition")
        if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
            return _error(400, f"notes: text of at most {MAX_NOTES} characters", "notes")
        if not await self._agents_call(agent.number, linkedid):
            return _error(403, "not one of your calls")
        saved = await self.customer_file.save_disposition(
            linkedid, agent.number, disposition, notes
        )
        if not saved:
            return _error(404, "no interaction record for this call")
        return web.json_response({"ok": True})

    async def _agents_call(self, agent: str, linkedid: str) -> bool:
        # The call is the agent's who answered it; one it only rang (then another agent, or
        # nobody, answered) is not, however early its ring came.
        if self.hub.answered(agent, linkedid):
            return True
        if self.hub.was_offered(agent, linkedid):
            return False
        recent = await self.customer_file.interactions_for_agent(agent, limit=50)
        return any(call.linkedid == linkedid for call in recent)

    async def hangup(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        call = self.hub.live_call(agent.number, request.match_info["linkedid"])
        if call is None:
            return _error(404, "no live call of yours with this id")
        return await self._action({"Action": "Hangup", "Channel": call["channels"]["agent"]})

    async def transfer(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        linkedid = request.match_info["linkedid"]
        body = await read_json(request)
        target = self.dial_policy.dialled(body.get("to", ""))
        if target is None:
            return _error(400, "to: an agent number, a queue or a phone number", "to")
        call = self.hub.live_call(agent.number, linkedid)
        if call is None or call.get("state") != "answered" or not call["channels"]["caller"]:
            return _error(409, "only an answered call of yours can be transferred")
        refused = await self._dial("transfer", agent.number, target, linkedid)
        if refused is not None:
            return refused
        if self.note_transfer is not None:
            self.note_transfer(linkedid, agent.number)
        return await self._action(
            {
                "Action": "Redirect",
                "Channel": call["channels"]["caller"],
                "Context": self.desktop_context,
                "Exten": target,
                "Priority": "1",
            }
        )

    async def originate(self, request: web.Request) -> web.Response:
        agent = await require_agent(request)
        body = await read_json(request)
        number = self.dial_policy.dialled(body.get("number", ""))
        if number is None:
            return _error(400, "number: digits, optionally with a leading +", "number")
        refused = await self._dial("originate", agent.number, number, None)
        if refused is not None:
            return refused
        if self.ami is None:
            return _error(503, "this server does not control calls (no AMI connection)")
        try:
            # The agent's own phone rings first; when they answer, Asterisk dials the number.
            result = await self.ami.originate(
                agent.interface,
                context=self.desktop_context,
                exten=number,
                caller_id=f'"{agent.number}" <{agent.number}>',
                variables={channel_variables.AGENT: agent.number},
                wait=False,
            )
        except AmiError as error:
            log.warning("desktop: originate for agent %s failed: %s", agent.number, error)
            return _error(502, "Asterisk refused the call")
        return web.json_response({"ok": True, "channel_id": result.channel_id})

    async def _dial(
        self, action: str, agent: str, number: str, linkedid: str | None
    ) -> web.Response | None:
        """Audit a click-to-call or transfer; the refusal to answer with, if any."""
        field = "to" if action == "transfer" else "number"
        if not self.dial_policy.allows(number):
            await self.audit.record(
                agent, action, target=number, linkedid=linkedid, refusal="not_allowed"
            )
            log.warning("desktop: agent %s may not dial %s (desktop_dial_patterns)", agent, number)
            return _error(403, f"{field}: not a number agents may dial", field)
        if not await self.audit.record(
            agent, action, target=number, linkedid=linkedid, limit=self.dials
        ):
            return _rate_limited("calls and transfers")
        return None

    async def _action(self, action: dict[str, Any]) -> web.Response:
        if self.ami is None:
            return _error(503, "this server does not control calls (no AMI connection)")
        try:
            reply = await self.ami.send_action(action, timeout_s=5.0)
        except AmiError as error:
            log.warning("desktop: %s failed: %s", action["Action"], error)
            return _error(502, "Asterisk did not answer")
        if not reply.success:
            return _error(409, f"Asterisk refused: {reply.message}")
        return web.json_response({"ok": True})


def _untypable(ch: str) -> bool:
    return ch != _ZWNJ and unicodedata.category(ch) in _UNTYPABLE


def _rate_limited(what: str) -> web.Response:
    response = _error(429, f"too many {what} in the last hour; try again later")
    response.headers["Retry-After"] = "600"
    return response


def error_field(error: InvalidIdentifier) -> str:
    return error.field


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return web.json_response(body, status=status)


def _registration(body: dict[str, Any]) -> CustomerRegistration:
    def text(name: str, limit: int = 200) -> str:
        value = body.get(name) or ""
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidIdentifier(name, "", f"text of at most {limit} characters")
        return value.strip()

    family = text("family_name_fa")
    if not family:
        raise InvalidIdentifier("family_name_fa", "", "required")
    birth = text("birth_date", 10)
    try:
        birth_date = date.fromisoformat(birth) if birth else None
    except ValueError:
        raise InvalidIdentifier("birth_date", birth, "expected YYYY-MM-DD") from None
    language = text("language", 2) or "fa"
    if language not in LANGUAGES:
        raise InvalidIdentifier("language", language, "expected fa, en or ru")
    phone = text("phone", 32)
    return CustomerRegistration(
        family_name_fa=family,
        given_name_fa=text("given_name_fa"),
        given_name_latin=text("given_name_latin"),
        family_name_latin=text("family_name_latin"),
        national_id=text("national_id", 16) or None,
        birth_date=birth_date,
        language=language,
        phones=(phone,) if phone else (),
        postal_code=text("postal_code", 16) or None,
    )
