"""Cases on the web: the agents' API (Role.CASE_HANDLER: their cases and tasks, a case with its
timeline, opening and moving cases) and the partners' B2B API (docs/partner-api.yaml).

Mounted in the one aiohttp app by `popup_server.app` (see `AppParts`). A partner authenticates
with a signed token (`cases.partners`), sees and acts on its own cases only: another partner's
case answers 404, exactly as a case that does not exist, so tracking numbers cannot be probed.
Every partner call is in the audit log, refused ones included.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, replace
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from cases import partners as partner_file
from cases import reports, types
from cases.notices import CaseNotices, NotifyBy
from cases.partners import Partner, TokenRefused
from cases.registry import from_settings
from cases.store import (
    CaseChannel,
    CaseError,
    CaseNotFound,
    CaseRequest,
    CaseStore,
    CaseView,
    TimelineKind,
)
from cases.tasks import CaseTasks
from cases.types import CaseFieldError, Priority, parse_date
from customer_file.identifiers import InvalidIdentifier
from dialer.exports import CONTENT_TYPES, FORMATS, as_csv, as_xlsx
from integrations.messaging.outbox import Outbox, OutboxLimits
from ivr.hours import TEHRAN
from popup_server.auth import read_json, require_role
from popup_server.roles import Role

if TYPE_CHECKING:
    from popup_server.app import AppParts

STATIC = Path(__file__).with_name("static")
PAGE = STATIC / "cases.html"
STORE = web.AppKey("cases_store", CaseStore)
TASKS = web.AppKey("cases_tasks", CaseTasks)
PARTNERS = web.AppKey("cases_partners", partner_file.Partners)
PARTNER_API = "/api/partner/v1"
# Progress a partner reports, and the case field each one fills.
PROGRESS_FIELDS = {"inspection_done": "inspection_done", "estimate": "estimate_rials"}
PROGRESS_KINDS = ("inspection_done", "estimate", "document", "note")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__}")


def _error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=_dumps({"error": message}), content_type="application/json")


def _partner_view(case: CaseView) -> dict[str, Any]:
    """What a partner sees of its case: no national ID, no phone, no owner agent."""
    return {
        "tracking_number": case.tracking_number,
        "type": case.type,
        "state": case.state,
        "status": case.status,
        "priority": case.priority,
        "summary": case.summary,
        "fields": case.fields,
        "opened_at": case.opened_at.isoformat(),
        "resolution_due_at": case.resolution_due_at.isoformat() if case.resolution_due_at else None,
        "breached": list(case.breached),
    }


def add_routes(app: web.Application, parts: AppParts) -> None:
    case_types = types.load(Path(parts.settings.cases_types_path or types.DEFAULT_PATH))
    settings = parts.settings
    registry = from_settings(settings.cases_registry_url, settings.cases_registry_token)
    outbox = Outbox(parts.database, OutboxLimits.from_settings(settings))
    app[STORE] = CaseStore(
        parts.database, case_types, registry=registry, notices=CaseNotices(outbox)
    )
    app[TASKS] = CaseTasks(parts.database)
    app[PARTNERS] = partner_file.load(parts.settings.cases_partners_path)
    audit = parts.audit

    async def partner_of(request: web.Request) -> Partner:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token:
                raise TokenRefused("no bearer token")
            partner = request.app[PARTNERS].verify(token, datetime.now(UTC))
        except TokenRefused as refused:
            await audit.record("p:?", "partner_call", target=request.path[:32], refusal="token")
            raise web.HTTPUnauthorized(
                text=_dumps({"error": "a valid partner token is needed"}),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="tamas-partners"'},
            ) from refused
        return partner

    async def own_case(request: web.Request, partner: Partner) -> CaseView:
        number = request.match_info["number"]
        try:
            case = await request.app[STORE].get(number)
        except CaseNotFound:
            case = None
        if case is None or case.partner != partner.id:
            await audit.record(
                f"p:{partner.id}"[:16], "partner_call", target=number[:32], refusal="not_own"
            )
            raise _error(web.HTTPNotFound, f"no case {number}")
        return case

    async def partner_list(request: web.Request) -> web.Response:
        partner = await partner_of(request)
        await audit.record(f"p:{partner.id}"[:16], "partner_call", target="list")
        cases = await request.app[STORE].find(partner=partner.id, open_only=False, limit=500)
        return _json({"cases": [_partner_view(case) for case in cases]})

    async def partner_show(request: web.Request) -> web.Response:
        partner = await partner_of(request)
        case = await own_case(request, partner)
        await audit.record(f"p:{partner.id}"[:16], "partner_call", target=case.tracking_number)
        return _json(_partner_view(case))

    async def partner_open(request: web.Request) -> web.Response:
        partner = await partner_of(request)
        body = await read_json(request)
        case_type = str(body.get("type", ""))
        if case_type not in partner.may_open:
            await audit.record(
                f"p:{partner.id}"[:16], "partner_call", target=case_type[:32], refusal="type"
            )
            raise _error(web.HTTPForbidden, f"this partner may not open {case_type!r} cases")
        # A partner names no line, region, tier or other partner: its cases are its own.
        allowed = {"type", "summary", "fields", "phone", "national_id", "company_id", "attachment"}
        opening = _case_request(
            {key: value for key, value in body.items() if key in allowed},
            CaseChannel.PARTNER,
            f"partner:{partner.id}",
        )
        case = await _opening(request, replace(opening, partner=partner.id))
        await audit.record(f"p:{partner.id}"[:16], "partner_call", target=case.tracking_number)
        return _json(_partner_view(case), status=201)

    async def partner_progress(request: web.Request) -> web.Response:
        partner = await partner_of(request)
        case = await own_case(request, partner)
        who = f"p:{partner.id}"[:16]
        try:
            body = await read_json(request)
            case = await _progress(request.app[STORE], case, body, f"partner:{partner.id}")
        except web.HTTPException as refused:
            await audit.record(
                who, "partner_call", target=case.tracking_number, refusal=str(refused.status)
            )
            raise
        await audit.record(who, "partner_call", target=case.tracking_number)
        return _json(_partner_view(case))

    async def _progress(
        store: CaseStore, case: CaseView, body: dict[str, Any], actor: str
    ) -> CaseView:
        """The partner's progress into the case, everything checked before anything is written."""
        kind = body.get("kind")
        if kind not in PROGRESS_KINDS:
            raise _error(web.HTTPBadRequest, f"kind: one of {', '.join(PROGRESS_KINDS)}")
        note, attachment, state = body.get("note", ""), body.get("attachment"), body.get("state")
        for key, value in (("note", note), ("attachment", attachment), ("state", state)):
            if value is not None and not isinstance(value, str):
                raise _error(web.HTTPBadRequest, f"{key}: a text")
        states = case_types.types[case.type].workflow.states
        if state and state not in states:
            raise _error(web.HTTPUnprocessableEntity, f"state: one of {', '.join(states)}")
        if state == states[-1]:
            # Closing is the insurer's: a partner reports, resolves at most.
            raise _error(web.HTTPForbidden, "a partner does not close cases")
        try:
            if kind in PROGRESS_FIELDS and body.get("value") is not None:
                await store.update_fields(
                    case.tracking_number, {PROGRESS_FIELDS[kind]: body["value"]}, actor
                )
            data = {"kind": kind, "value": body.get("value")}
            case = await store.record(
                case.tracking_number, TimelineKind.PROGRESS, actor, note, data, attachment
            )
            if state and state != case.state:
                case = await store.move(case.tracking_number, state, actor)
        except (CaseError, CaseFieldError) as error:
            raise _error(web.HTTPUnprocessableEntity, str(error)) from None
        return case

    # --- agents --------------------------------------------------------------------------

    async def page(request: web.Request) -> web.StreamResponse:
        # The page itself holds nothing private; its API checks the role on every call.
        return web.FileResponse(PAGE)

    async def type_list(request: web.Request) -> web.Response:
        await require_role(request, Role.CASE_HANDLER)
        return _json(
            {
                "teams": sorted(case_types.teams),
                "types": [
                    {
                        "type": name,
                        "states": list(spec.workflow.states),
                        "fields": [
                            {
                                "name": field.name,
                                "kind": field.kind,
                                "required": field.required,
                                "choices": list(field.choices),
                            }
                            for field in spec.fields.values()
                        ],
                    }
                    for name, spec in case_types.types.items()
                ],
            }
        )

    async def overview(request: web.Request) -> web.Response:
        await require_role(request, Role.SUPERVISOR)
        now = datetime.now(UTC)
        store = request.app[STORE]
        load = await reports.team_load(parts.database, now, timedelta(hours=1))
        breaches = [
            case
            for case in await store.find(limit=200)
            if case.breached or (case.next_due_at and case.next_due_at <= now)
        ]
        return _json({"teams": load, "breaches": [case.as_dict() for case in breaches[:50]]})

    async def report(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.SUPERVISOR)
        name = request.match_info["name"]
        if name not in reports.REPORTS:
            raise _error(web.HTTPNotFound, f"no report {name!r}")
        try:
            start, end = (
                datetime.combine(parse_date(key, request.query.get(key, "")), time(0), TEHRAN)
                for key in ("from", "to")
            )
        except CaseFieldError as error:
            raise _error(web.HTTPBadRequest, str(error)) from None
        jalali = request.query.get("calendar", "jalali") != "gregorian"
        found = await reports.report(parts.database, name, start, end, jalali)
        export = request.query.get("format")
        if export not in (None, *FORMATS):
            raise _error(web.HTTPBadRequest, f"format: one of {', '.join(FORMATS)}")
        if export is None:
            return _json({"header": found.header, "rows": found.rows})
        await audit.record(agent.number, "case_read", target=f"report:{name}")
        writer = as_csv if export == "csv" else partial(as_xlsx, title=name)
        body = await asyncio.to_thread(writer, found.header, found.rows)
        return web.Response(
            body=body,
            content_type=CONTENT_TYPES[export].split(";")[0],
            charset="utf-8" if export == "csv" else None,
            headers={"Content-Disposition": f'attachment; filename="cases-{name}.{export}"'},
        )

    async def mine(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.CASE_HANDLER)
        store, tasks = request.app[STORE], request.app[TASKS]
        team = request.query.get("team")
        cases = await store.find(owner=None if team else agent.number, team=team)
        team_tasks = await tasks.unfinished(team=team) if team else []
        own_tasks = await tasks.unfinished(assignee=agent.number)
        return _json(
            {
                "cases": [case.as_dict() for case in cases],
                "tasks": [asdict(task) for task in (own_tasks + team_tasks)],
            }
        )

    async def show(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.CASE_HANDLER)
        store = request.app[STORE]
        number = request.match_info["number"]
        try:
            case = await store.get(number)
        except CaseNotFound:
            raise _error(web.HTTPNotFound, f"no case {number}") from None
        await audit.record(
            agent.number, "case_read", customer_id=case.customer_id, target=case.tracking_number
        )
        timeline = await store.timeline(case.tracking_number)
        tasks = await request.app[TASKS].for_case(case.tracking_number)
        return _json(
            {
                "case": case.as_dict(),
                "timeline": [asdict(entry) for entry in timeline],
                "tasks": [asdict(task) for task in tasks],
            }
        )

    async def open_from_desktop(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.CASE_HANDLER)
        body = await read_json(request)
        opening = _case_request(body, CaseChannel.DESKTOP, f"agent:{agent.number}")
        case = await _opening(request, opening)
        await audit.record(agent.number, "case_open", target=case.tracking_number)
        return _json(case.as_dict(), status=201)

    async def move(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.CASE_HANDLER)
        body = await read_json(request)
        store = request.app[STORE]
        number = request.match_info["number"]
        try:
            if "satisfaction" in body or "nps" in body:
                score, nps = _score(body, "satisfaction"), _score(body, "nps")
                if score is None and nps is None:
                    # Both null would record a satisfaction entry that says nothing.
                    raise _error(web.HTTPBadRequest, "satisfaction or nps: a whole number")
                case = await store.record_satisfaction(
                    number, f"agent:{agent.number}", score=score, nps=nps
                )
            elif body.get("note") and not body.get("state"):
                case = await store.record(
                    number, TimelineKind.NOTE, f"agent:{agent.number}", str(body["note"])
                )
            else:
                case = await store.move(
                    number,
                    str(body.get("state", "")),
                    f"agent:{agent.number}",
                    str(body.get("note", "")),
                    _fields(body) or None,
                )
        except CaseNotFound:
            raise _error(web.HTTPNotFound, f"no case {number}") from None
        except (CaseError, CaseFieldError) as error:
            raise _error(web.HTTPUnprocessableEntity, str(error)) from None
        await audit.record(agent.number, "case_update", target=case.tracking_number)
        return _json(case.as_dict())

    async def add_task(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.CASE_HANDLER)
        body = await read_json(request)
        number = request.match_info["number"]
        try:
            control_at = datetime.fromisoformat(str(body.get("control_at", "")))
            if control_at.tzinfo is None:
                control_at = control_at.replace(tzinfo=TEHRAN)  # as the agent's clock shows it
            task = await request.app[TASKS].add(
                number,
                str(body.get("title", "")),
                control_at,
                Priority(body.get("urgency") or Priority.NORMAL),
                team=body.get("team") or None,
                assignee=body.get("assignee") or None,
            )
        except ValueError as error:  # a bad moment or urgency, no title, no such case
            raise _error(web.HTTPUnprocessableEntity, str(error)) from None
        await audit.record(agent.number, "case_update", target=task.tracking_number)
        return _json(asdict(task), status=201)

    async def finish_task(request: web.Request) -> web.Response:
        agent = await require_role(request, Role.CASE_HANDLER)
        done = await request.app[TASKS].complete(int(request.match_info["task"]), agent.number)
        if not done:
            raise _error(web.HTTPConflict, "no such unfinished task")
        return _json({"done": True})

    app.add_routes(
        [
            web.get(f"{PARTNER_API}/cases", partner_list),
            web.post(f"{PARTNER_API}/cases", partner_open),
            web.get(f"{PARTNER_API}/cases/{{number}}", partner_show),
            web.post(f"{PARTNER_API}/cases/{{number}}/progress", partner_progress),
            web.get("/cases", page),
            web.get("/api/cases/types", type_list),
            web.get("/api/cases/overview", overview),
            web.get("/api/cases/mine", mine),
            web.get("/api/cases/reports/{name}", report),
            web.post("/api/cases", open_from_desktop),
            web.get("/api/cases/{number}", show),
            web.post("/api/cases/{number}", move),
            web.post("/api/cases/{number}/tasks", add_task),
            web.post(r"/api/cases/tasks/{task:\d+}/done", finish_task),
        ]
    )
    app.router.add_static("/static/cases/", STATIC, append_version=True)


TEXTS = (
    "summary", "phone", "national_id", "company_id", "line", "region", "tier", "partner", "email",
    "attachment",
)  # fmt: skip


def _score(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _error(web.HTTPBadRequest, f"{key}: a whole number")
    return value


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise _error(web.HTTPBadRequest, "fields: an object of field names to values")
    return fields


def _case_request(body: dict[str, Any], channel: CaseChannel, actor: str) -> CaseRequest:
    """A CaseRequest from a JSON body, or 400 naming the value of the wrong kind."""
    texts: dict[str, str | None] = {}
    for key in TEXTS:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise _error(web.HTTPBadRequest, f"{key}: a text")
        texts[key] = value or None
    customer_id = body.get("customer_id")
    if customer_id is not None and (
        isinstance(customer_id, bool) or not isinstance(customer_id, int)
    ):
        raise _error(web.HTTPBadRequest, "customer_id: a whole number")
    try:
        notify_by = NotifyBy(body.get("notify_by") or NotifyBy.SMS)
    except ValueError:
        raise _error(web.HTTPBadRequest, f"notify_by: one of {', '.join(NotifyBy)}") from None
    return CaseRequest(
        str(body.get("type", "")),
        channel,
        actor,
        texts.pop("summary") or "",
        _fields(body),
        customer_id=customer_id,
        notify_by=notify_by,
        **texts,
    )


async def _opening(request: web.Request, case: CaseRequest) -> CaseView:
    try:
        return await request.app[STORE].open_case(case)
    except (CaseError, CaseFieldError, InvalidIdentifier) as error:
        raise _error(web.HTTPUnprocessableEntity, str(error)) from None
