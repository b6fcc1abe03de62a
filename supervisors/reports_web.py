"""The supervisors' report page: queues, agents, the IVR and the abandoned callers over any
period, as tables and charts, with CSV and XLSX downloads. The figures are `reports.py`'s, the
same as `tamas report` prints. Every route needs the supervisor role; downloading or viewing
the abandoned callers (their phone numbers) is audited.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from popup_server.auth import current_agent, require_role
from popup_server.roles import Role
from supervisors import metrics, reports

if TYPE_CHECKING:
    from popup_server.app import AppParts

STATIC = Path(__file__).parent / "static" / "reports"
# A report's rows on the page and in a download: a year by hour of one queue is under 9,000.
MAX_ROWS = 50_000
_CONTENT = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


class ReportRoutes:
    def __init__(self, parts: AppParts) -> None:
        self.parts = parts

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/supervisors/reports", self.page)
        app.router.add_get("/api/reports/{kind}", self.report)
        app.router.add_static("/static/supervisors-reports/", STATIC, append_version=True)

    async def page(self, request: web.Request) -> web.StreamResponse:
        # Not logged in: the page shows its login form. Logged in without the role: 403.
        if await current_agent(request) is not None:
            await require_role(request, Role.SUPERVISOR)
        return web.FileResponse(STATIC / "reports.html")

    def _request(self, request: web.Request) -> reports.ReportRequest:
        query = request.query
        kind = request.match_info["kind"]
        if kind not in reports.KINDS:
            raise _error(web.HTTPNotFound, f"no report {kind!r}")
        settings = self.parts.settings
        language = query.get("language", settings.default_language)
        if language not in {"fa", "en", "ru"}:
            raise _error(web.HTTPBadRequest, "language is fa, en or ru")
        try:
            period = reports.Period(query.get("by", "day"))
        except ValueError:
            raise _error(web.HTTPBadRequest, "by is hour, day, week, month or all") from None
        zone = ZoneInfo(settings.report_time_zone)
        try:
            start, end = reports.interval(
                query.get("from", ""),
                query.get("to", ""),
                zone,
                jalali=query.get("calendar") == "jalali",
            )
        except reports.BadRequest as error:
            raise _error(web.HTTPBadRequest, str(error)) from None
        return reports.ReportRequest(
            kind=kind,
            start=start,
            end=end,
            period=period,
            calendar=reports.Calendar.for_language(settings.report_time_zone, language),
            thresholds=metrics.thresholds_from(settings),
            include_short=query.get("short") == "1",
        )

    async def report(self, request: web.Request) -> web.StreamResponse:
        supervisor = await require_role(request, Role.SUPERVISOR)
        asked = self._request(request)
        form = request.query.get("format", "json")
        if form not in {"json", "csv", "xlsx"}:
            raise _error(web.HTTPBadRequest, "format is json, csv or xlsx")
        rows = await reports.report_rows(self.parts.database, asked, self.parts.customer_file)
        if len(rows) > MAX_ROWS:
            raise _error(web.HTTPRequestEntityTooLarge, "too many rows: choose a longer period")
        if asked.kind == "abandoned":
            await self.parts.audit.record(
                supervisor.number,
                # The abandoned callers' numbers were read (a day range, as the zone's dates).
                "sv_report",
                target=_days(request, form),
            )
        if form == "json":
            body: dict[str, Any] = {"kind": asked.kind, "rows": rows}
            if asked.kind == "ivr":
                ivr = await reports.ivr_report(self.parts.database, asked.start, asked.end)
                body["self_service_rate"] = ivr.self_service_rate
                body["calls"] = ivr.calls
            return web.json_response(body)
        name = f"tamas-{asked.kind}-{request.query.get('from', '')}-{request.query.get('to', '')}"
        data = (
            reports.to_csv(rows).encode("utf-8-sig")
            if form == "csv"
            else reports.to_xlsx(rows, asked.kind)
        )
        return web.Response(
            body=data,
            content_type=_CONTENT[form].split(";")[0],
            charset="utf-8" if form == "csv" else None,
            headers={"Content-Disposition": f'attachment; filename="{_safe(name)}.{form}"'},
        )


def _days(request: web.Request, form: str) -> str:
    """The audit's target: the days asked for, as typed (Jalali or not), and the format."""
    first, last = request.query.get("from", "")[:10], request.query.get("to", "")[:10]
    return f"{first}..{last} {form}"[:32]


def _safe(name: str) -> str:
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in name)


def add_routes(app: web.Application, parts: AppParts) -> None:
    ReportRoutes(parts).add_to(app)
