"""Complaints exported to, and kept in step with, the central insurance complaint system (the
regulator's REST service), through one small adapter.

`CentralComplaints` speaks the service: `POST /complaints` (our tracking number is the
external id, so a repeated export after a lost answer is answered 409 with the id the service
already gave it, never a second complaint), `PUT /complaints/{id}/status`, `GET
/complaints/{id}`. `CentralSync` is the job (`tamas cases central-sync`, every few minutes): it
exports the complaints not yet there, sends each state change the service has not had, and
reads back what the regulator did (a complaint it escalated, a ruling) into the timeline. An
outage (refused connection, timeout, 5xx) stops the run; everything not sent is found again
the next run, because what was sent is read from each case's timeline, not from a queue.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
from sqlalchemy import select

from cases.store import CaseStore, TimelineKind
from cases.tables import CaseEventRow, CaseRow

# Our ISO 10002 states as the central system's statuses.
CENTRAL_STATUS = {
    "received": "registered",
    "acknowledged": "acknowledged",
    "assessed": "in_review",
    "investigating": "in_review",
    "waiting_customer": "in_review",
    "responded": "answered",
    "communicated": "decision_notified",
    "closed": "closed",
}
ACTOR = "system:central"


class CentralUnavailable(Exception):
    """The central system did not answer (or answered 5xx): try again on the next run."""


class CentralRefused(Exception):
    """The central system refused the request (4xx other than a duplicate): a person must look."""


class CentralComplaints:
    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _call(
        self, session: aiohttp.ClientSession, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with session.request(
                method, f"{self.base_url}{path}", json=body, headers=headers
            ) as reply:
                if reply.status >= 500:
                    raise CentralUnavailable(f"central system answered {reply.status}")
                data = await reply.json(content_type=None) if reply.status != 204 else {}
                return reply.status, data if isinstance(data, dict) else {}
        except (aiohttp.ClientError, TimeoutError) as error:
            raise CentralUnavailable(
                f"central system unreachable: {type(error).__name__}"
            ) from error
        except ValueError as error:
            raise CentralUnavailable("central system answered without JSON") from error

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=self.timeout)

    async def submit(self, session: aiohttp.ClientSession, complaint: dict[str, Any]) -> str:
        """The central id of the complaint, exporting it unless the service already has it."""
        status, data = await self._call(session, "POST", "/complaints", complaint)
        if status in (200, 201, 409) and data.get("id"):
            return str(data["id"])
        raise CentralRefused(f"export refused ({status}): {str(data.get('error', ''))[:200]}")

    async def update(self, session: aiohttp.ClientSession, central_id: str, status: str) -> None:
        code, data = await self._call(
            session, "PUT", f"/complaints/{central_id}/status", {"status": status}
        )
        if code >= 300:
            raise CentralRefused(f"status refused ({code}): {str(data.get('error', ''))[:200]}")

    async def read(self, session: aiohttp.ClientSession, central_id: str) -> dict[str, Any]:
        code, data = await self._call(session, "GET", f"/complaints/{central_id}")
        if code >= 300:
            raise CentralRefused(f"read refused ({code})")
        return data


@dataclasses.dataclass
class SyncReport:
    exported: int = 0
    updated: int = 0
    regulator_notes: int = 0
    refused: list[str] = dataclasses.field(default_factory=list)
    outage: str | None = None


@dataclasses.dataclass
class _Known:
    central_id: str | None = None
    sent_status: str | None = None
    regulator_note: str | None = None


class CentralSync:
    def __init__(self, store: CaseStore, central: CentralComplaints) -> None:
        self.store = store
        self.central = central

    async def _complaints(self) -> list[tuple[CaseRow, _Known]]:
        """Complaints with what the central system already has of each (from the timeline)."""
        async with self.store.database.session() as session:
            rows = (
                await session.scalars(
                    select(CaseRow).where(CaseRow.type == "complaint").order_by(CaseRow.id)
                )
            ).all()
            known = {row.id: _Known() for row in rows}
            events = await session.scalars(
                select(CaseEventRow)
                .where(CaseEventRow.kind == TimelineKind.CENTRAL.value)
                .order_by(CaseEventRow.id)
            )
            for event in events.all():
                entry = known.get(event.case_id)
                if entry is None:
                    continue
                entry.central_id = event.data.get("central_id") or entry.central_id
                entry.sent_status = event.data.get("status") or entry.sent_status
                entry.regulator_note = event.data.get("regulator_note") or entry.regulator_note
        return [(row, known[row.id]) for row in rows]

    async def run(self) -> SyncReport:
        report = SyncReport()
        async with self.central.session() as http:
            for row, known in await self._complaints():
                status = CENTRAL_STATUS.get(row.state)
                if status is None:
                    continue
                try:
                    await self._one(http, row, known, status, report)
                except CentralUnavailable as error:
                    report.outage = str(error)
                    return report
                except CentralRefused as error:
                    report.refused.append(f"{row.tracking_number}: {error}")
        return report

    async def _one(
        self,
        http: aiohttp.ClientSession,
        row: CaseRow,
        known: _Known,
        status: str,
        report: SyncReport,
    ) -> None:
        number = row.tracking_number
        if known.central_id is None:
            complaint = {
                "external_id": number,
                "category": (row.fields or {}).get("category"),
                "remedy_sought": (row.fields or {}).get("remedy_sought"),
                "opened_at": row.opened_at.isoformat(),
                "status": status,
            }
            central_id = await self.central.submit(http, complaint)
            await self.store.record(number, TimelineKind.CENTRAL, ACTOR,
                                    data={"central_id": central_id, "status": status})  # fmt: skip
            report.exported += 1
            return
        if known.sent_status != status:
            await self.central.update(http, known.central_id, status)
            await self.store.record(number, TimelineKind.CENTRAL, ACTOR, data={"status": status})
            report.updated += 1
        remote = await self.central.read(http, known.central_id)
        note = remote.get("regulator_note")
        if note and note != known.regulator_note:
            await self.store.record(number, TimelineKind.CENTRAL, ACTOR, str(note),
                                    data={"regulator_note": str(note)})  # fmt: skip
            report.regulator_notes += 1
